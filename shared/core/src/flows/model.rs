//! A flow's definition: a JSON graph of nodes, each naming the node its exits go to. The
//! API serves this format as a JSON Schema (`GET /v1/flows/schema`); README has an example.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A flow's graph: where it starts and its nodes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// The id of the first node.
    pub start: String,
    pub nodes: Vec<Node>,
}

/// One node: an id unique in the flow and what it does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Node {
    pub id: String,
    #[serde(flatten)]
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum NodeKind {
    /// Sends a message (`{{variables}}` filled in), then goes on.
    Message {
        #[serde(flatten)]
        content: Content,
        next: Option<String>,
    },
    /// Sends an approved template (for contacts outside the 24 h window).
    Template {
        template_id: String,
        /// Values for `{{1}}`, `{{2}}`... (or named parameters), `{{variables}}` filled in.
        #[serde(default)]
        parameters: serde_json::Value,
        next: Option<String>,
    },
    /// Asks and waits for the answer.
    Question(Question),
    /// The first rule that holds picks the exit; `default` otherwise.
    Condition { rules: Vec<Rule>, default: Option<String> },
    /// Changes something (a tag, a field, the session), then goes on.
    Action {
        #[serde(flatten)]
        action: Action,
        next: Option<String>,
    },
    /// Calls an integrator's endpoint and maps its JSON answer into variables.
    Http(HttpNode),
    /// Waits, then goes on.
    Wait { seconds: u32, next: Option<String> },
    /// Goes to another flow (its published version); with `return_to`, a `return` node
    /// there comes back to that node of this flow.
    GoToFlow { flow_id: String, return_to: Option<String> },
    /// Goes back to where the last `go_to_flow` with a `return_to` left.
    Return,
    /// Ends the flow: the session goes to its team's queue (`handoff`, the default) or
    /// stays as it is (`quiet`: a flow that only informed).
    End {
        #[serde(default)]
        handoff: Handoff,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Handoff {
    #[default]
    Team,
    Quiet,
}

/// What a message node (or a question) sends: text, optionally with media, reply buttons
/// (up to 3) or a list (up to 10 rows).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Content {
    #[serde(default)]
    pub text: String,
    /// A public https URL of an image, video, audio or document.
    pub media: Option<MediaRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Choice>,
    pub list: Option<List>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MediaRef {
    /// `image`, `video`, `audio` or `document`.
    pub kind: String,
    pub url: String,
    pub filename: Option<String>,
}

/// A reply button or list row: `id` comes back when the customer taps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Choice {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
    /// Where this choice leads (else the question's `answered` exit).
    pub next: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct List {
    /// The button that opens the list.
    pub button: String,
    pub rows: Vec<Choice>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Question {
    #[serde(flatten)]
    pub content: Content,
    /// Where the answer is kept (`{{answer}}` always holds the last one too).
    pub variable: Option<String>,
    /// What a valid text answer looks like (choices are valid when they match an option).
    #[serde(default)]
    pub expect: Expect,
    /// Sent when the answer is not valid, before asking again.
    pub invalid_text: Option<String>,
    /// How many invalid answers are asked again before the `invalid` exit.
    #[serde(default = "one")]
    pub retries: u32,
    /// How long to wait for an answer (10 s to 7 days) before the `timeout` exit.
    pub timeout_seconds: Option<u32>,
    /// Messages arriving within this many seconds of each other (≤ 40) are one answer.
    #[serde(default)]
    pub join_seconds: u32,
    pub answered: Option<String>,
    pub invalid: Option<String>,
    pub timeout: Option<String>,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    #[default]
    Any,
    Number,
    Email,
    /// A CPF or CNPJ with valid check digits.
    CpfCnpj,
    Regex(String),
}

/// A condition's rule: when `when` holds, go to `next`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Rule {
    pub when: Test,
    pub next: String,
}

/// A test over the conversation: combine with `all` / `any` / `not`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum Test {
    All {
        of: Vec<Test>,
    },
    Any {
        of: Vec<Test>,
    },
    Not {
        of: Box<Test>,
    },
    /// The channel's business hours are open now.
    BusinessHours,
    /// The contact has the tag.
    HasTag {
        tag_id: String,
    },
    /// A value (`{{answer}}`, `{{contact.name}}`, `{{contact.fields.cpf}}`,
    /// `{{session.plan}}`, `{{last_message}}`, a variable) compared.
    Text {
        value: String,
        op: TextOp,
        to: String,
    },
    /// Today (in the account's zone) is one of these (0 = Sunday ... 6 = Saturday).
    Weekday {
        days: Vec<u8>,
    },
    /// Now (in the account's zone) is within `from`..`to` (`HH:MM`; may wrap midnight).
    Time {
        from: String,
        to: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TextOp {
    Equals,
    Contains,
    StartsWith,
    Regex,
    /// Numeric comparisons (both sides read as numbers; false when either is not one).
    Gt,
    Lt,
    /// Not empty.
    Present,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    AddTag {
        tag_id: String,
    },
    RemoveTag {
        tag_id: String,
    },
    /// A contact field (`name`, `email`) or custom field key; `{{variables}}` filled in.
    SetContactField {
        field: String,
        value: String,
    },
    SetSessionMetadata {
        key: String,
        value: String,
    },
    SetVariable {
        name: String,
        value: String,
    },
    EnrolInSequence {
        sequence_id: String,
    },
    RemoveFromSequence {
        sequence_id: String,
    },
    /// Hands the session to a team's queue and ends the flow.
    TransferToTeam {
        team_id: String,
    },
    /// Completes the session and ends the flow.
    CompleteSession,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct HttpNode {
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    #[serde(default = "get")]
    pub method: String,
    /// `{{variables}}` filled in (URL-encoded).
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A body (JSON text usually), `{{variables}}` filled in.
    pub body: Option<String>,
    /// Variable ← JSON pointer into the answer (`{"status": "/order/status"}`).
    #[serde(default)]
    pub map: BTreeMap<String, String>,
    /// A 2xx answer.
    pub success: Option<String>,
    /// Anything else: another status, a timeout, a refused address.
    pub failure: Option<String>,
}

fn get() -> String {
    "GET".into()
}

impl Definition {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The node ids an exit of `node` may name.
    pub fn exits(node: &NodeKind) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        fn push<'a>(out: &mut Vec<&'a str>, o: &'a Option<String>) {
            if let Some(s) = o {
                out.push(s);
            }
        }
        let mut push = |o| push(&mut out, o);
        match node {
            NodeKind::Message { next, .. }
            | NodeKind::Template { next, .. }
            | NodeKind::Action { next, .. }
            | NodeKind::Wait { next, .. } => push(next),
            NodeKind::Question(q) => {
                push(&q.answered);
                push(&q.invalid);
                push(&q.timeout);
                q.content.choices().for_each(|c| push(&c.next));
            }
            NodeKind::Condition { rules, default } => {
                push(default);
                rules.iter().for_each(|r| out.push(&r.next));
            }
            NodeKind::Http(h) => {
                push(&h.success);
                push(&h.failure);
            }
            NodeKind::GoToFlow { return_to, .. } => push(return_to),
            NodeKind::Return | NodeKind::End { .. } => {}
        }
        out
    }
}

impl Content {
    pub fn choices(&self) -> impl Iterator<Item = &Choice> {
        self.buttons.iter().chain(self.list.iter().flat_map(|l| l.rows.iter()))
    }
}
