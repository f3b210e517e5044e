//! Prints every kind of request body the Cloud API client builds (each send kind, and
//! template creations), as JSON for `tools/meta_conformance.py`, which checks them against
//! Meta's published OpenAPI document.

use atende_core::conversations::model::{
    Template, TemplateButton, TemplateCategory, TemplateContent, TemplateHeader, TemplateStatus,
};
use atende_core::ports::{
    ButtonValue, ButtonValueKind, HeaderValue, NamedValue, OutboundChoice, OutboundContent, OutboundRequest,
    TemplateValues,
};
use atende_providers::whatsapp::client::message_body;
use atende_providers::whatsapp::templates::creation_body;
use serde_json::{Value, json};

fn send(name: &str, content: OutboundContent, reply_to: Option<&str>) -> Value {
    let request = OutboundRequest {
        to: "5511987654321".into(),
        content,
        reply_to: reply_to.map(str::to_owned),
        human_agent: false,
    };
    json!({"name": name, "body": message_body(&request)})
}

fn media(kind: &str, caption: Option<&str>, filename: Option<&str>) -> OutboundContent {
    OutboundContent::Media {
        kind: kind.into(),
        link: format!("https://files.example/{kind}"),
        caption: caption.map(str::to_owned),
        filename: filename.map(str::to_owned),
    }
}

fn choice(i: usize) -> OutboundChoice {
    OutboundChoice {
        id: format!("c{i}"),
        title: format!("Opção {i}"),
        description: (i == 1).then(|| "detalhe".into()),
    }
}

fn value(text: &str) -> NamedValue {
    NamedValue { name: None, text: text.into() }
}

fn template(
    name: &str,
    header: Option<TemplateHeader>,
    body: &str,
    buttons: Vec<TemplateButton>,
) -> Template {
    let mut t = Template::pending(
        "t".into(),
        "a",
        "c",
        name,
        "pt_BR",
        TemplateCategory::Marketing,
        chrono::Utc::now(),
    );
    t.content = TemplateContent { header, body: body.into(), footer: Some("Loja Acme".into()), buttons };
    t.status = TemplateStatus::Approved;
    t
}

fn main() {
    let full = TemplateValues {
        header: Some(HeaderValue::Media {
            kind: "image".into(),
            link: Some("https://files.example/banner.png".into()),
            blob_key: None,
            filename: None,
        }),
        body: vec![value("Ana"), value("A-77")],
        buttons: vec![
            ButtonValue { index: 1, kind: ButtonValueKind::UrlSuffix, value: "A-77".into() },
            ButtonValue { index: 3, kind: ButtonValueKind::CopyCode, value: "VOLTA15".into() },
        ],
    };
    let named = TemplateValues {
        header: Some(HeaderValue::Text(NamedValue { name: Some("loja".into()), text: "Acme".into() })),
        body: vec![NamedValue { name: Some("nome".into()), text: "Ana".into() }],
        buttons: Vec::new(),
    };
    let document = TemplateValues {
        header: Some(HeaderValue::Media {
            kind: "document".into(),
            link: Some("https://files.example/boleto.pdf".into()),
            blob_key: None,
            filename: Some("boleto.pdf".into()),
        }),
        body: Vec::new(),
        buttons: Vec::new(),
    };
    let tpl = |values: TemplateValues| OutboundContent::Template {
        name: "pedido".into(),
        language: "pt_BR".into(),
        values,
    };
    let sends = vec![
        send("text", OutboundContent::Text { body: "Olá!".into() }, None),
        send("text replying", OutboundContent::Text { body: "Sim".into() }, Some("wamid.X")),
        send("image with caption", media("image", Some("o boleto"), None), None),
        send("video", media("video", Some("veja"), None), None),
        send("audio", media("audio", Some("ignored"), None), None),
        send("sticker", media("sticker", None, None), None),
        send("document with filename", media("document", Some("nota"), Some("nota.pdf")), None),
        send(
            "reply buttons",
            OutboundContent::Interactive {
                body: "Escolha".into(),
                choices: (0..3).map(choice).collect(),
                list_button: None,
            },
            None,
        ),
        send(
            "list",
            OutboundContent::Interactive {
                body: "Escolha".into(),
                choices: (0..10).map(choice).collect(),
                list_button: Some("Opções".into()),
            },
            None,
        ),
        send("template without values", tpl(TemplateValues::default()), None),
        send("template: image header, body, URL suffix, copy code", tpl(full), None),
        send("template: named header and body", tpl(named), None),
        send("template: document header", tpl(document), None),
    ];
    let creations = vec![
        json!({"name": "numbered body, image header, every button", "body": creation_body(&template(
            "pedido",
            Some(TemplateHeader::Image { blob_key: Some("uploads/a/1".into()), link: None }),
            "Olá {{1}}, pedido {{2}}",
            vec![
                TemplateButton::QuickReply { text: "Falar".into() },
                TemplateButton::Url { text: "Rastrear".into(), url: "https://acme.example/r/{{1}}".into() },
                TemplateButton::PhoneNumber { text: "Ligar".into(), phone_number: "+5511987654321".into() },
                TemplateButton::CopyCode { example: "CUPOM10".into() },
            ],
        ), Some("4::handle"))}),
        json!({"name": "named body, text header with a variable", "body": creation_body(&template(
            "boas_vindas",
            Some(TemplateHeader::Text { text: "Olá {{nome}}".into() }),
            "Bem-vindo, {{nome}}! Seu código é {{codigo}}.",
            Vec::new(),
        ), None)}),
    ];
    println!("{}", json!({"sends": sends, "creations": creations}));
}
