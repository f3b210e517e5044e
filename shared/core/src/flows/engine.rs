//! The flow engine: a pure step function, `(flow, run state, input) → (new state,
//! effects)`. It does no I/O: the caller (`flows::runs`) gathers the [`Facts`] it reads,
//! applies the [`Effect`]s it returns in one transaction with the new state, performs the
//! HTTP calls and flow loads it pauses for, and steps again with their result.
//!
//! Loops cannot run away: a turn (everything one input causes) takes at most
//! [`MAX_STEPS`] steps, and a run visits one node at most [`MAX_VISITS`] times; past
//! either the run stops with the reason and hands the session to its team.

use super::model::{
    Action, Content, Definition, Expect, Handoff, HttpNode, NodeKind, Question, Test, TextOp,
};
use crate::crm::placeholders;
use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Steps one input may take.
pub const MAX_STEPS: u32 = 250;
/// Visits of one node in one run.
pub const MAX_VISITS: u32 = 100;
/// Messages one turn may send (a transaction holds them with the run).
pub const MAX_SENDS: usize = 40;

/// A run's state: where it waits, its variables and its counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub flow_id: String,
    pub version: u32,
    /// The node the run waits at (a question, a wait, an HTTP call, a flow jump).
    pub node: Option<String>,
    pub waiting: Option<Waiting>,
    /// Bumped at every wait: a timer carries it and is stale once it moved.
    pub wait_seq: u32,
    /// Invalid answers to the current question so far.
    pub retries_used: u32,
    /// Messages joined into one answer (a question's `join_seconds`).
    #[serde(default)]
    pub joined: Vec<String>,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    /// Visits per `flow_id/node`.
    #[serde(default)]
    pub visits: BTreeMap<String, u32>,
    /// Where `return` nodes go back to.
    #[serde(default)]
    pub stack: Vec<Frame>,
    /// A flow jump the caller loads before stepping again.
    pub jump: Option<Jump>,
    /// Steps of the current turn.
    #[serde(default)]
    pub turn_steps: u32,
    pub ended: Option<Ending>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Waiting {
    Answer,
    /// Inside a question's join window.
    Join,
    Sleep,
    Http,
    Flow,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub flow_id: String,
    pub version: u32,
    pub node: String,
}

/// A jump to another flow: its published version when `version` is `None`; its start node
/// when `node` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jump {
    pub flow_id: String,
    pub version: Option<u32>,
    pub node: Option<String>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Ending {
    /// It reached its end: the session goes to its team (or stays, `quiet`).
    Finished {
        handoff: bool,
    },
    Transferred {
        team_id: String,
    },
    Completed,
    /// Stopped for a reason (a loop cap, a broken graph); the session goes to its team.
    Stopped {
        reason: String,
    },
}

/// What the run is given.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    Start,
    /// A customer's message: its text and, for a tapped button or list row, the reply id.
    Message {
        text: String,
        reply_id: Option<String>,
    },
    /// A timer armed with `seq` fired.
    Timer {
        seq: u32,
    },
    /// The HTTP call the run paused for answered (`status` 0: no answer).
    Http {
        status: u16,
        body: Option<serde_json::Value>,
    },
    /// The caller loaded the flow of [`RunState::jump`].
    Jumped,
}

/// What the engine reads about the conversation, gathered by the caller.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Now in the account's zone.
    pub local_now: NaiveDateTime,
    pub business_open: bool,
    pub tags: BTreeSet<String>,
    /// Conversation variables: `name`, `first_name`, `phone`, `email`, `protocol`,
    /// `custom.<key>`, `session.<key>` (the engine keeps `answer` and `last_message`).
    pub values: BTreeMap<String, String>,
}

/// An effect for the caller to apply.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Send {
        node: String,
        message: Outgoing,
    },
    AddTag(String),
    RemoveTag(String),
    SetContactField {
        field: String,
        value: String,
    },
    SetSessionMetadata {
        key: String,
        value: String,
    },
    Enrol(String),
    Unenrol(String),
    /// Arm a timer `seconds` from now carrying `seq`.
    Arm {
        seconds: u32,
        seq: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    Content(Content),
    Template { template_id: String, parameters: serde_json::Value },
}

/// What the caller must do before stepping again.
#[derive(Debug, Clone, PartialEq)]
pub enum Pause {
    Http(HttpCall),
    /// Load the flow named by [`RunState::jump`], then step with [`Input::Jumped`].
    LoadFlow,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HttpCall {
    pub method: String,
    pub url: String,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
}

/// One step's result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Turn {
    pub effects: Vec<Effect>,
    pub pause: Option<Pause>,
}

/// Steps `state` of `flow` with `input`.
pub fn step(flow: &Definition, state: &mut RunState, input: Input, facts: &Facts) -> Turn {
    let mut run = Stepper { flow, state, facts, turn: Turn::default() };
    if run.state.ended.is_some() {
        return run.turn;
    }
    if matches!(input, Input::Start | Input::Message { .. } | Input::Timer { .. }) {
        run.state.turn_steps = 0;
    }
    let next = run.enter(input);
    if let Some(next) = next {
        run.walk(next);
    }
    run.turn
}

/// Where a step goes: a node, or the end of the flow.
enum Next {
    Node(String),
    End(Handoff),
}

struct Stepper<'a> {
    flow: &'a Definition,
    state: &'a mut RunState,
    facts: &'a Facts,
    turn: Turn,
}

impl Stepper<'_> {
    fn lookup(&self, name: &str) -> Option<String> {
        self.state.vars.get(name).cloned().or_else(|| self.facts.values.get(name).cloned())
    }

    fn fill(&self, text: &str) -> String {
        placeholders::fill(text, |n| self.lookup(n))
    }

    fn exit(target: &Option<String>) -> Next {
        target.clone().map_or(Next::End(Handoff::Team), Next::Node)
    }

    /// Takes the input: where the run goes from here (`None`: it keeps waiting).
    fn enter(&mut self, input: Input) -> Option<Next> {
        match input {
            Input::Start => Some(Next::Node(self.flow.start.clone())),
            Input::Jumped => {
                let jump = self.state.jump.take()?;
                self.state.waiting = None;
                Some(Next::Node(jump.node.unwrap_or_else(|| self.flow.start.clone())))
            }
            Input::Message { text, reply_id } => self.message(text, reply_id),
            Input::Timer { seq } => {
                if seq != self.state.wait_seq {
                    return None; // stale: the run moved on since it was armed
                }
                let node = self.state.node.clone()?;
                match self.state.waiting? {
                    Waiting::Sleep => {
                        self.state.waiting = None;
                        match &self.flow.node(&node)?.kind {
                            NodeKind::Wait { next, .. } => Some(Self::exit(next)),
                            _ => None,
                        }
                    }
                    Waiting::Answer => {
                        let q = self.question(&node)?;
                        self.state.waiting = None;
                        Some(Self::exit(&q.timeout))
                    }
                    Waiting::Join => {
                        let q = self.question(&node)?;
                        let joined = std::mem::take(&mut self.state.joined).join("\n");
                        self.evaluate(&node, &q, joined, None)
                    }
                    Waiting::Http | Waiting::Flow => None,
                }
            }
            Input::Http { status, body } => {
                if self.state.waiting != Some(Waiting::Http) {
                    return None;
                }
                let node = self.state.node.clone()?;
                let NodeKind::Http(h) = &self.flow.node(&node)?.kind else { return None };
                self.state.waiting = None;
                self.state.vars.insert("http.status".into(), status.to_string());
                let ok = (200..300).contains(&status);
                if ok && let Some(body) = &body {
                    for (var, pointer) in &h.map {
                        if let Some(v) = body.pointer(pointer) {
                            let text = match v {
                                serde_json::Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            self.state.vars.insert(var.clone(), text);
                        }
                    }
                }
                Some(Self::exit(if ok { &h.success } else { &h.failure }))
            }
        }
    }

    fn question(&self, node: &str) -> Option<Question> {
        match &self.flow.node(node)?.kind {
            NodeKind::Question(q) => Some(q.clone()),
            _ => None,
        }
    }

    fn message(&mut self, text: String, reply_id: Option<String>) -> Option<Next> {
        self.state.vars.insert("last_message".into(), text.clone());
        let node = self.state.node.clone()?;
        match self.state.waiting? {
            Waiting::Answer | Waiting::Join => {
                let q = self.question(&node)?;
                if q.join_seconds > 0 && reply_id.is_none() {
                    // Joined with what comes within the window; answered when it closes.
                    self.state.joined.push(text);
                    self.state.waiting = Some(Waiting::Join);
                    self.arm(q.join_seconds.min(40));
                    return None;
                }
                let mut parts = std::mem::take(&mut self.state.joined);
                parts.push(text);
                self.evaluate(&node, &q, parts.join("\n"), reply_id)
            }
            // Not asked anything: the message is in the transcript; the run goes on waiting.
            Waiting::Sleep | Waiting::Http | Waiting::Flow => None,
        }
    }

    /// An answer to question `node`: its exit, or (invalid) the question again.
    fn evaluate(&mut self, node: &str, q: &Question, text: String, reply_id: Option<String>) -> Option<Next> {
        match answer_of(q, &text, reply_id.as_deref()) {
            Some((value, id, next)) => {
                self.state.waiting = None;
                self.state.retries_used = 0;
                self.state.vars.insert("answer".into(), value.clone());
                if let Some(var) = &q.variable {
                    self.state.vars.insert(var.clone(), value);
                    if let Some(id) = &id {
                        self.state.vars.insert(format!("{var}_id"), id.clone());
                    }
                }
                Some(next.map_or_else(|| Self::exit(&q.answered), Next::Node))
            }
            None if self.state.retries_used < q.retries => {
                self.state.retries_used += 1;
                if let Some(t) = &q.invalid_text {
                    let content = Content { text: self.fill(t), ..Content::default() };
                    self.send(node, Outgoing::Content(content));
                }
                self.ask(node, q);
                None
            }
            None => {
                self.state.waiting = None;
                self.state.retries_used = 0;
                Some(Self::exit(&q.invalid))
            }
        }
    }

    fn send(&mut self, node: &str, message: Outgoing) {
        self.turn.effects.push(Effect::Send { node: node.to_owned(), message });
    }

    fn arm(&mut self, seconds: u32) {
        self.state.wait_seq += 1;
        self.turn.effects.push(Effect::Arm { seconds, seq: self.state.wait_seq });
    }

    /// Sends a question and waits for its answer (with its timeout armed).
    fn ask(&mut self, node: &str, q: &Question) {
        let content = self.render(&q.content);
        self.send(node, Outgoing::Content(content));
        self.state.node = Some(node.to_owned());
        self.state.waiting = Some(Waiting::Answer);
        self.state.joined.clear();
        match q.timeout_seconds {
            Some(s) => self.arm(s),
            None => self.state.wait_seq += 1,
        }
    }

    fn render(&self, c: &Content) -> Content {
        let mut out = c.clone();
        out.text = self.fill(&c.text);
        out
    }

    fn stop(&mut self, reason: String) {
        self.state.waiting = None;
        self.state.ended = Some(Ending::Stopped { reason });
    }

    /// Runs nodes from `next` until the run waits, pauses or ends.
    fn walk(&mut self, mut next: Next) {
        loop {
            let id = match next {
                Next::End(handoff) => {
                    self.state.waiting = None;
                    self.state.ended = Some(Ending::Finished { handoff: handoff == Handoff::Team });
                    return;
                }
                Next::Node(id) => id,
            };
            self.state.turn_steps += 1;
            if self.state.turn_steps > MAX_STEPS {
                return self.stop(format!("the flow took more than {MAX_STEPS} steps in one turn (a loop?)"));
            }
            let visit = format!("{}/{id}", self.state.flow_id);
            let visits = self.state.visits.entry(visit).or_insert(0);
            *visits += 1;
            if *visits > MAX_VISITS {
                return self.stop(format!("node {id} was visited more than {MAX_VISITS} times (a loop?)"));
            }
            if self.turn.effects.iter().filter(|e| matches!(e, Effect::Send { .. })).count() > MAX_SENDS {
                return self.stop(format!("the flow sent more than {MAX_SENDS} messages in one turn"));
            }
            let Some(node) = self.flow.node(&id) else {
                return self.stop(format!("node {id} does not exist in the flow"));
            };
            self.state.node = Some(id.clone());
            next = match &node.kind {
                NodeKind::Message { content, next } => {
                    let content = self.render(content);
                    self.send(&id, Outgoing::Content(content));
                    Self::exit(next)
                }
                NodeKind::Template { template_id, parameters, next } => {
                    let parameters = fill_json(parameters, &|t| self.fill(t));
                    self.send(&id, Outgoing::Template { template_id: template_id.clone(), parameters });
                    Self::exit(next)
                }
                NodeKind::Question(q) => {
                    self.state.retries_used = 0;
                    return self.ask(&id, q);
                }
                NodeKind::Condition { rules, default } => match rules.iter().find(|r| self.holds(&r.when)) {
                    Some(rule) => Next::Node(rule.next.clone()),
                    None => Self::exit(default),
                },
                NodeKind::Action { action, next } => match self.act(action) {
                    Some(ending) => {
                        self.state.ended = Some(ending);
                        return;
                    }
                    None => Self::exit(next),
                },
                NodeKind::Http(h) => {
                    let call = self.call(h);
                    self.state.waiting = Some(Waiting::Http);
                    self.turn.pause = Some(Pause::Http(call));
                    return;
                }
                NodeKind::Wait { seconds, .. } => {
                    self.state.waiting = Some(Waiting::Sleep);
                    self.arm(*seconds);
                    return;
                }
                NodeKind::GoToFlow { flow_id, return_to } => {
                    if let Some(back) = return_to {
                        self.state.stack.push(Frame {
                            flow_id: self.state.flow_id.clone(),
                            version: self.state.version,
                            node: back.clone(),
                        });
                    }
                    return self.jump(Jump { flow_id: flow_id.clone(), version: None, node: None });
                }
                NodeKind::Return => match self.state.stack.pop() {
                    Some(frame) => {
                        return self.jump(Jump {
                            flow_id: frame.flow_id,
                            version: Some(frame.version),
                            node: Some(frame.node),
                        });
                    }
                    None => Next::End(Handoff::Team),
                },
                NodeKind::End { handoff } => Next::End(*handoff),
            };
        }
    }

    fn jump(&mut self, jump: Jump) {
        self.state.waiting = Some(Waiting::Flow);
        self.state.jump = Some(jump);
        self.turn.pause = Some(Pause::LoadFlow);
    }

    fn call(&self, h: &HttpNode) -> HttpCall {
        let url = placeholders::fill(&h.url, |n| self.lookup(n).map(|v| url_encode(&v)));
        HttpCall {
            method: h.method.to_uppercase(),
            url,
            headers: h.headers.iter().map(|(k, v)| (k.clone(), self.fill(v))).collect(),
            body: h.body.as_ref().map(|b| self.fill(b)),
        }
    }

    /// Applies an action: its effect, and the run's ending when it ends the flow.
    fn act(&mut self, action: &Action) -> Option<Ending> {
        let effect = match action {
            Action::AddTag { tag_id } => Effect::AddTag(tag_id.clone()),
            Action::RemoveTag { tag_id } => Effect::RemoveTag(tag_id.clone()),
            Action::SetContactField { field, value } => {
                Effect::SetContactField { field: field.clone(), value: self.fill(value) }
            }
            Action::SetSessionMetadata { key, value } => {
                let value = self.fill(value);
                self.state.vars.insert(format!("session.{key}"), value.clone());
                Effect::SetSessionMetadata { key: key.clone(), value }
            }
            Action::SetVariable { name, value } => {
                let value = self.fill(value);
                self.state.vars.insert(name.clone(), value);
                return None;
            }
            Action::EnrolInSequence { sequence_id } => Effect::Enrol(sequence_id.clone()),
            Action::RemoveFromSequence { sequence_id } => Effect::Unenrol(sequence_id.clone()),
            Action::TransferToTeam { team_id } => {
                return Some(Ending::Transferred { team_id: team_id.clone() });
            }
            Action::CompleteSession => return Some(Ending::Completed),
        };
        self.turn.effects.push(effect);
        None
    }

    fn holds(&self, test: &Test) -> bool {
        match test {
            Test::All { of } => of.iter().all(|t| self.holds(t)),
            Test::Any { of } => of.iter().any(|t| self.holds(t)),
            Test::Not { of } => !self.holds(of),
            Test::BusinessHours => self.facts.business_open,
            Test::HasTag { tag_id } => self.facts.tags.contains(tag_id),
            Test::Text { value, op, to } => compare(&self.fill(value), *op, &self.fill(to)),
            Test::Weekday { days } => {
                days.contains(&(self.facts.local_now.weekday().num_days_from_sunday() as u8))
            }
            Test::Time { from, to } => {
                let (Some(from), Some(to)) = (minutes(from), minutes(to)) else { return false };
                let now = self.facts.local_now.hour() * 60 + self.facts.local_now.minute();
                if from <= to { (from..to).contains(&now) } else { now >= from || now < to }
            }
        }
    }
}

fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

/// Case- and accent-insensitive form for comparing what people type.
pub fn folded(s: &str) -> String {
    deunicode::deunicode(s.trim()).to_lowercase()
}

fn compare(value: &str, op: TextOp, to: &str) -> bool {
    let number = |s: &str| s.trim().replace(',', ".").parse::<f64>().ok();
    match op {
        TextOp::Equals => folded(value) == folded(to),
        TextOp::Contains => folded(value).contains(&folded(to)),
        TextOp::StartsWith => folded(value).starts_with(&folded(to)),
        // Patterns are checked when the flow is published; a bad one never matches.
        TextOp::Regex => regex::Regex::new(to).is_ok_and(|r| r.is_match(value)),
        TextOp::Gt => matches!((number(value), number(to)), (Some(a), Some(b)) if a > b),
        TextOp::Lt => matches!((number(value), number(to)), (Some(a), Some(b)) if a < b),
        TextOp::Present => !value.trim().is_empty(),
    }
}

/// A valid answer: its value, the choice id, and the choice's own exit.
fn answer_of(
    q: &Question,
    text: &str,
    reply_id: Option<&str>,
) -> Option<(String, Option<String>, Option<String>)> {
    let choices: Vec<_> = q.content.choices().collect();
    if !choices.is_empty() {
        let typed = folded(text);
        let pick = choices
            .iter()
            .enumerate()
            .find(|(i, c)| {
                reply_id == Some(c.id.as_str())
                    || folded(&c.title) == typed
                    || typed == (i + 1).to_string()
                    || folded(&c.id) == typed
            })
            .map(|(_, c)| *c)?;
        return Some((pick.title.clone(), Some(pick.id.clone()), pick.next.clone()));
    }
    let t = text.trim();
    let valid = match &q.expect {
        Expect::Any => !t.is_empty(),
        Expect::Number => t.replace(',', ".").parse::<f64>().is_ok(),
        Expect::Email => crate::accounts::users::normalize_email(t).is_ok(),
        Expect::CpfCnpj => return crate::crm::documents::cpf_or_cnpj(t).map(|d| (d, None, None)),
        Expect::Regex(p) => regex::Regex::new(p).is_ok_and(|r| r.is_match(t)),
    };
    valid.then(|| (t.to_owned(), None, None))
}

/// Fills `{{variables}}` in every string of a JSON value (template parameters).
fn fill_json(v: &serde_json::Value, fill: &dyn Fn(&str) -> String) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => Value::String(fill(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| fill_json(x, fill)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), fill_json(x, fill))).collect()),
        other => other.clone(),
    }
}

fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flow(v: serde_json::Value) -> Definition {
        serde_json::from_value(v).unwrap()
    }

    fn ask_flow() -> Definition {
        flow(json!({"start": "hi", "nodes": [
            {"id": "hi", "type": "message", "text": "Olá {{first_name}}!", "next": "ask"},
            {"id": "ask", "type": "question", "text": "Seu pedido?", "variable": "pedido", "expect": "number",
             "invalid_text": "Só números, por favor.", "retries": 1, "timeout_seconds": 300,
             "answered": "check", "invalid": "human", "timeout": "late"},
            {"id": "check", "type": "condition", "rules": [{"when": {"test": "text", "value": "{{pedido}}", "op": "gt", "to": "100"}, "next": "big"}], "default": "small"},
            {"id": "big", "type": "message", "text": "Pedido {{pedido}} grande", "next": "bye"},
            {"id": "small", "type": "message", "text": "Pedido pequeno", "next": "bye"},
            {"id": "late", "type": "message", "text": "Sem resposta", "next": "bye"},
            {"id": "human", "type": "message", "text": "Vou chamar alguém"},
            {"id": "bye", "type": "end", "handoff": "quiet"}
        ]}))
    }

    fn texts(turn: &Turn) -> Vec<String> {
        turn.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { message: Outgoing::Content(c), .. } => Some(c.text.clone()),
                _ => None,
            })
            .collect()
    }

    fn facts() -> Facts {
        let mut f = Facts::default();
        f.values.insert("first_name".into(), "Ana".into());
        f
    }

    fn says(text: &str) -> Input {
        Input::Message { text: text.into(), reply_id: None }
    }

    #[test]
    fn a_question_is_asked_with_its_timeout_then_a_valid_answer_takes_its_branch() {
        let f = ask_flow();
        let mut s = RunState::default();
        let t = step(&f, &mut s, Input::Start, &facts());
        assert_eq!(texts(&t), ["Olá Ana!", "Seu pedido?"]);
        assert!(t.effects.contains(&Effect::Arm { seconds: 300, seq: 1 }));
        assert_eq!((s.node.as_deref(), s.waiting), (Some("ask"), Some(Waiting::Answer)));
        let t = step(&f, &mut s, says("150"), &facts());
        assert_eq!(texts(&t), ["Pedido 150 grande"]);
        assert_eq!(s.ended, Some(Ending::Finished { handoff: false }));
        assert_eq!(s.vars["pedido"], "150");
    }

    #[test]
    fn an_invalid_answer_is_told_and_asked_again_then_the_invalid_exit_is_taken() {
        let f = ask_flow();
        let mut s = RunState::default();
        step(&f, &mut s, Input::Start, &facts());
        let t = step(&f, &mut s, says("abc"), &facts());
        assert_eq!(texts(&t), ["Só números, por favor.", "Seu pedido?"]);
        assert!(
            t.effects.contains(&Effect::Arm { seconds: 300, seq: 2 }),
            "the timeout counts from the new ask"
        );
        let t = step(&f, &mut s, says("xyz"), &facts());
        assert_eq!(texts(&t), ["Vou chamar alguém"]);
        assert_eq!(s.ended, Some(Ending::Finished { handoff: true }), "a node without next hands over");
    }

    #[test]
    fn the_timeout_takes_its_own_exit_and_a_stale_timer_does_nothing() {
        let f = ask_flow();
        let mut s = RunState::default();
        step(&f, &mut s, Input::Start, &facts());
        step(&f, &mut s, says("abc"), &facts()); // re-asked: the first timer (seq 1) is stale
        let stale = step(&f, &mut s, Input::Timer { seq: 1 }, &facts());
        assert!(stale.effects.is_empty() && s.ended.is_none());
        let t = step(&f, &mut s, Input::Timer { seq: 2 }, &facts());
        assert_eq!(texts(&t), ["Sem resposta"]);
    }

    #[test]
    fn a_loop_is_stopped_at_the_step_cap_with_a_reason() {
        let f = flow(json!({"start": "a", "nodes": [
            {"id": "a", "type": "condition", "rules": [], "default": "b"},
            {"id": "b", "type": "action", "action": "set_variable", "name": "x", "value": "1", "next": "a"}
        ]}));
        let mut s = RunState::default();
        step(&f, &mut s, Input::Start, &facts());
        match &s.ended {
            Some(Ending::Stopped { reason }) => assert!(reason.contains("a loop"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_slow_loop_across_turns_is_stopped_by_the_visit_cap() {
        let f = flow(json!({"start": "w", "nodes": [
            {"id": "w", "type": "wait", "seconds": 10, "next": "w"}
        ]}));
        let mut s = RunState::default();
        step(&f, &mut s, Input::Start, &facts());
        for _ in 0..MAX_VISITS + 5 {
            let seq = s.wait_seq;
            step(&f, &mut s, Input::Timer { seq }, &facts());
        }
        assert!(
            matches!(&s.ended, Some(Ending::Stopped { reason }) if reason.contains("visited")),
            "{:?}",
            s.ended
        );
    }

    #[test]
    fn buttons_match_by_reply_id_title_or_number_and_lead_to_their_own_node() {
        let f = flow(json!({"start": "q", "nodes": [
            {"id": "q", "type": "question", "text": "Escolha", "buttons": [
                {"id": "sales", "title": "Vendas", "next": "s"}, {"id": "help", "title": "Suporte", "next": "h"}]},
            {"id": "s", "type": "message", "text": "vendas"},
            {"id": "h", "type": "message", "text": "suporte"}
        ]}));
        for (input, want) in [
            (Input::Message { text: "x".into(), reply_id: Some("help".into()) }, "suporte"),
            (says("vendas"), "vendas"),
            (says("2"), "suporte"),
        ] {
            let mut s = RunState::default();
            step(&f, &mut s, Input::Start, &facts());
            assert_eq!(texts(&step(&f, &mut s, input, &facts())), [want]);
        }
    }

    #[test]
    fn quick_messages_within_the_join_window_are_one_answer() {
        let f = flow(json!({"start": "q", "nodes": [
            {"id": "q", "type": "question", "text": "Conte", "variable": "story", "join_seconds": 20, "answered": "e"},
            {"id": "e", "type": "message", "text": "Você disse: {{story}}"}
        ]}));
        let mut s = RunState::default();
        step(&f, &mut s, Input::Start, &facts());
        let t1 = step(&f, &mut s, says("meu pedido"), &facts());
        let t2 = step(&f, &mut s, says("não chegou"), &facts());
        assert!(texts(&t1).is_empty() && texts(&t2).is_empty());
        let seq = s.wait_seq;
        let done = step(&f, &mut s, Input::Timer { seq }, &facts());
        assert_eq!(texts(&done), ["Você disse: meu pedido\nnão chegou"]);
    }

    #[test]
    fn go_to_flow_pauses_for_the_other_flow_and_return_comes_back_to_the_return_point() {
        let main = flow(json!({"start": "go", "nodes": [
            {"id": "go", "type": "go_to_flow", "flow_id": "sub", "return_to": "back"},
            {"id": "back", "type": "message", "text": "de volta"}
        ]}));
        let sub = flow(json!({"start": "s", "nodes": [
            {"id": "s", "type": "message", "text": "no subfluxo", "next": "r"},
            {"id": "r", "type": "return"}
        ]}));
        let mut s = RunState { flow_id: "main".into(), version: 3, ..RunState::default() };
        let t = step(&main, &mut s, Input::Start, &facts());
        assert_eq!(t.pause, Some(Pause::LoadFlow));
        assert_eq!(s.jump, Some(Jump { flow_id: "sub".into(), version: None, node: None }));
        (s.flow_id, s.version) = ("sub".into(), 1); // what the caller does when it loads it
        let t = step(&sub, &mut s, Input::Jumped, &facts());
        assert_eq!(texts(&t), ["no subfluxo"]);
        assert_eq!(
            s.jump,
            Some(Jump { flow_id: "main".into(), version: Some(3), node: Some("back".into()) })
        );
        (s.flow_id, s.version) = ("main".into(), 3);
        let t = step(&main, &mut s, Input::Jumped, &facts());
        assert_eq!(texts(&t), ["de volta"]);
        assert!(s.stack.is_empty() && s.ended.is_some());
    }

    #[test]
    fn an_http_node_pauses_and_maps_the_answer_into_variables() {
        let f = flow(json!({"start": "h", "nodes": [
            {"id": "h", "type": "http", "url": "https://api.example/o/{{pedido}}", "map": {"st": "/order/status"}, "success": "ok", "failure": "ko"},
            {"id": "ok", "type": "message", "text": "Status: {{st}}"},
            {"id": "ko", "type": "message", "text": "Falhou"}
        ]}));
        let mut s = RunState::default();
        s.vars.insert("pedido".into(), "1 2".into());
        let t = step(&f, &mut s, Input::Start, &facts());
        match t.pause {
            Some(Pause::Http(call)) => assert_eq!(call.url, "https://api.example/o/1+2"),
            other => panic!("{other:?}"),
        }
        let t = step(
            &f,
            &mut s,
            Input::Http { status: 200, body: Some(json!({"order": {"status": "enviado"}})) },
            &facts(),
        );
        assert_eq!(texts(&t), ["Status: enviado"]);
        let mut s = RunState::default();
        step(&f, &mut s, Input::Start, &facts());
        assert_eq!(texts(&step(&f, &mut s, Input::Http { status: 0, body: None }, &facts())), ["Falhou"]);
    }
}
