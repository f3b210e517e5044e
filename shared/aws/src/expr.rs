//! Rendering typed conditions, updates and key conditions to DynamoDB expressions, with
//! every name and value in placeholders.

use crate::convert::to_sdk;
use atende_core::ports::table::{Cmp, Condition, PK, SortCondition, UpdateOp};
use aws_sdk_dynamodb::types::AttributeValue as Av;
use std::collections::HashMap;

#[derive(Default)]
pub(crate) struct Expr {
    pub names: HashMap<String, String>,
    pub values: HashMap<String, Av>,
}

impl Expr {
    pub fn name(&mut self, name: &str) -> String {
        if let Some((placeholder, _)) = self.names.iter().find(|(_, n)| n.as_str() == name) {
            return placeholder.clone();
        }
        let placeholder = format!("#n{}", self.names.len());
        self.names.insert(placeholder.clone(), name.to_owned());
        placeholder
    }

    pub fn value(&mut self, value: Av) -> String {
        let placeholder = format!(":v{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    pub fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }

    pub fn values(&self) -> Option<HashMap<String, Av>> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }

    pub fn condition(&mut self, condition: &Condition) -> String {
        match condition {
            Condition::NotExists => format!("attribute_not_exists({})", self.name(PK)),
            Condition::Exists => format!("attribute_exists({})", self.name(PK)),
            Condition::AttributeExists(n) => format!("attribute_exists({})", self.name(n)),
            Condition::AttributeNotExists(n) => format!("attribute_not_exists({})", self.name(n)),
            Condition::Equals(n, v) => format!("{} = {}", self.name(n), self.value(to_sdk(v.clone()))),
            Condition::NotEquals(n, v) => {
                let name = self.name(n);
                format!("(attribute_not_exists({name}) OR {name} <> {})", self.value(to_sdk(v.clone())))
            }
            Condition::Compare(n, cmp, v) => {
                let op = match cmp {
                    Cmp::Lt => "<",
                    Cmp::Le => "<=",
                    Cmp::Gt => ">",
                    Cmp::Ge => ">=",
                };
                format!("{} {op} {}", self.name(n), self.value(to_sdk(v.clone())))
            }
            Condition::And(all) => self.join(all, " AND "),
            Condition::Or(any) => self.join(any, " OR "),
        }
    }

    fn join(&mut self, parts: &[Condition], op: &str) -> String {
        if parts.is_empty() {
            // An empty AND holds, an empty OR does not.
            let pk = self.name(PK);
            return if op == " AND " {
                format!("(attribute_exists({pk}) OR attribute_not_exists({pk}))")
            } else {
                format!("(attribute_exists({pk}) AND attribute_not_exists({pk}))")
            };
        }
        let rendered: Vec<String> = parts.iter().map(|c| self.condition(c)).collect();
        format!("({})", rendered.join(op))
    }

    pub fn update(&mut self, ops: &[UpdateOp]) -> String {
        let (mut set, mut add, mut remove) = (Vec::new(), Vec::new(), Vec::new());
        for op in ops {
            match op {
                UpdateOp::Set(n, v) => {
                    set.push(format!("{} = {}", self.name(n), self.value(to_sdk(v.clone()))))
                }
                UpdateOp::SetIfAbsent(n, v) => {
                    let name = self.name(n);
                    set.push(format!("{name} = if_not_exists({name}, {})", self.value(to_sdk(v.clone()))))
                }
                UpdateOp::Add(n, d) => {
                    add.push(format!("{} {}", self.name(n), self.value(Av::N(d.to_string()))))
                }
                UpdateOp::Remove(n) => remove.push(self.name(n)),
            }
        }
        let mut clauses = Vec::new();
        if !set.is_empty() {
            clauses.push(format!("SET {}", set.join(", ")));
        }
        if !add.is_empty() {
            clauses.push(format!("ADD {}", add.join(", ")));
        }
        if !remove.is_empty() {
            clauses.push(format!("REMOVE {}", remove.join(", ")));
        }
        clauses.join(" ")
    }

    pub fn key_condition(
        &mut self,
        pk_name: &str,
        partition: &str,
        sk_name: &str,
        sort: Option<&SortCondition>,
    ) -> String {
        let pk = self.name(pk_name);
        let mut out = format!("{pk} = {}", self.value(Av::S(partition.to_owned())));
        if let Some(sort) = sort {
            let sk = self.name(sk_name);
            let mut v = |s: &String| self.value(Av::S(s.clone()));
            let clause = match sort {
                SortCondition::Eq(x) => format!("{sk} = {}", v(x)),
                SortCondition::Lt(x) => format!("{sk} < {}", v(x)),
                SortCondition::Le(x) => format!("{sk} <= {}", v(x)),
                SortCondition::Gt(x) => format!("{sk} > {}", v(x)),
                SortCondition::Ge(x) => format!("{sk} >= {}", v(x)),
                SortCondition::Between(a, b) => format!("{sk} BETWEEN {} AND {}", v(a), v(b)),
                SortCondition::BeginsWith(p) => format!("begins_with({sk}, {})", v(p)),
            };
            out.push_str(" AND ");
            out.push_str(&clause);
        }
        out
    }
}
