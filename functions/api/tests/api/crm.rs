//! The contact base: custom fields, search, import, privacy, quick replies, panels,
//! classification reasons and CSAT, through the API on the embedded stack.

use super::*;

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

impl Api {
    async fn ok(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, value) = self.call(method, path, Some(token), body).await;
        assert!(status.is_success(), "{path}: {status} {value}");
        value
    }
}

#[tokio::test]
async fn custom_fields_are_typed_checked_on_every_write_and_removed_with_their_definition() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = a.admin_token.as_str();
    let field = |key: &str, t: &str, extra: Value| {
        let mut f = json!({"key": key, "label": key.to_uppercase(), "type": t});
        f.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        f
    };
    api.ok(Method::POST, "/v1/custom-fields", admin, Some(field("cpf", "text", json!({"required": true}))))
        .await;
    api.ok(Method::POST, "/v1/custom-fields", admin, Some(field("limite", "number", json!({})))).await;
    api.ok(Method::POST, "/v1/custom-fields", admin, Some(field("nascimento", "date", json!({})))).await;
    api.ok(
        Method::POST,
        "/v1/custom-fields",
        admin,
        Some(field("plano", "choice", json!({"options": ["Ouro", "Prata"]}))),
    )
    .await;
    let (status, body) = api
        .call(Method::POST, "/v1/custom-fields", Some(admin), Some(field("name", "text", json!({}))))
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) =
        api.call(Method::POST, "/v1/custom-fields", Some(admin), Some(field("cpf", "text", json!({})))).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = api
        .call(
            Method::POST,
            "/v1/custom-fields",
            Some(admin),
            Some(field("cor", "choice", json!({"options": []}))),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    api.create_user(admin, "agent@acme.example", "agent").await;
    let agent = api.login("agent@acme.example", "password123").await;
    let (status, body) =
        api.call(Method::POST, "/v1/custom-fields", Some(&agent), Some(field("x", "text", json!({})))).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);

    // Every write is checked, and the 422 names the field.
    let contact = |custom: Value| json!({"name": "Ana", "phone": "+5511987650001", "custom": custom});
    for (custom, named) in [
        (json!({}), "custom.cpf"),
        (json!({"cpf": "1", "limite": "muito"}), "custom.limite"),
        (json!({"cpf": "1", "nascimento": "31/02/2026"}), "custom.nascimento"),
        (json!({"cpf": "1", "plano": "Bronze"}), "custom.plano"),
        (json!({"cpf": "1", "cor": "azul"}), "custom.cor"),
    ] {
        let (status, body) =
            api.call(Method::POST, "/v1/contacts", Some(&agent), Some(contact(custom))).await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap().contains(named), "{named}: {body}");
    }
    let ana = api
        .ok(
            Method::POST,
            "/v1/contacts",
            &agent,
            Some(contact(json!({"cpf": "123.456.789-09", "limite": "1.500,50", "nascimento": "01/02/1990", "plano": "ouro"}))),
        )
        .await;
    assert_eq!(
        ana["custom"],
        json!({"cpf": "123.456.789-09", "limite": 1500.5, "nascimento": "1990-02-01", "plano": "Ouro"})
    );
    assert_eq!(ana["origin"], "manual");
    let ana_id = ana["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/contacts/{ana_id}");
    let (status, body) =
        api.call(Method::PATCH, &path, Some(&agent), Some(json!({"custom": {"cpf": null}}))).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let patched = api
        .ok(Method::PATCH, &path, &agent, Some(json!({"custom": {"plano": "Prata", "limite": null}})))
        .await;
    assert_eq!(
        patched["custom"],
        json!({"cpf": "123.456.789-09", "nascimento": "1990-02-01", "plano": "Prata"})
    );

    // Filter by a field's value, then delete the field: the value leaves every contact.
    let found = api.ok(Method::GET, "/v1/contacts?field=plano&value=prata", &agent, None).await;
    assert_eq!(ids(&found), vec![ana_id.clone()]);
    let found = api.ok(Method::GET, "/v1/contacts?field=plano&value=Ouro", &agent, None).await;
    assert!(ids(&found).is_empty(), "the old value is no longer found: {found}");
    api.ok(Method::DELETE, "/v1/custom-fields/plano", admin, None).await;
    let after = api.ok(Method::GET, &path, &agent, None).await;
    assert_eq!(after["custom"], json!({"cpf": "123.456.789-09", "nascimento": "1990-02-01"}));
    let (status, body) = api.call(Method::GET, "/v1/custom-fields/plano", Some(&agent), None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    let listed = api.ok(Method::GET, "/v1/custom-fields", &agent, None).await;
    let keys: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|f| f["key"].as_str().unwrap()).collect();
    assert_eq!(keys, vec!["cpf", "limite", "nascimento"]);
}

#[tokio::test]
async fn search_finds_contacts_by_folded_name_prefix_any_phone_spelling_email_and_each_filter() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = a.admin_token.as_str();
    let (_, vip) = api.call(Method::POST, "/v1/tags", Some(admin), Some(json!({"name": "VIP"}))).await;
    let vip = vip["id"].as_str().unwrap().to_owned();
    let mut made = Vec::new();
    for (name, phone, email, tags, origin) in [
        ("João da Silva", "+5511987654321", "joao@example.com", vec![vip.clone()], "site"),
        ("Joana Araújo", "+5511987650002", "joana@example.com", vec![], "instagram"),
        ("Maria Silveira", "+5521987650003", "maria@example.com", vec![vip.clone()], "site"),
        ("Pedro", "+5531987650004", "pedro@example.com", vec![], "manual"),
    ] {
        let c = api
            .ok(
                Method::POST,
                "/v1/contacts",
                admin,
                Some(json!({"name": name, "phone": phone, "email": email, "tags": tags, "origin": origin})),
            )
            .await;
        made.push(c["id"].as_str().unwrap().to_owned());
    }
    let (joao, joana, maria, pedro) = (&made[0], &made[1], &made[2], &made[3]);
    let search = |query: &str| {
        let api = &api;
        let query = query.to_owned();
        async move {
            let page = api.ok(Method::GET, &format!("/v1/contacts?{query}"), admin, None).await;
            let mut found = ids(&page);
            found.sort();
            found
        }
    };
    let sorted = |v: Vec<&String>| {
        let mut v: Vec<String> = v.into_iter().cloned().collect();
        v.sort();
        v
    };
    assert_eq!(search("name=joao").await, sorted(vec![joao]), "accents and case ignored");
    assert_eq!(search("name=JO").await, sorted(vec![joao, joana]));
    assert_eq!(search("name=silv").await, sorted(vec![joao, maria]), "a later word's prefix");
    assert_eq!(search("q=ara%C3%BAjo").await, sorted(vec![joana]));
    for spelling in ["(11)%2098765-4321", "%2B55%2011%208765-4321", "5511987654321", "11987654321"] {
        assert_eq!(search(&format!("phone={spelling}")).await, sorted(vec![joao]), "{spelling}");
    }
    assert_eq!(search("q=%2B55%2011%2098765-4321").await, sorted(vec![joao]), "q reads a number as a phone");
    assert_eq!(search("q=MARIA%40example.com").await, sorted(vec![maria]), "q reads an email");
    assert_eq!(search("email=pedro%40example.com").await, sorted(vec![pedro]));
    assert_eq!(search(&format!("tag={vip}")).await, sorted(vec![joao, maria]));
    assert_eq!(search(&format!("tag={vip}&name=mar")).await, sorted(vec![maria]), "criteria combine");
    assert_eq!(search("origin=SITE").await, sorted(vec![joao, maria]));
    assert_eq!(search("origin=site&phone=21987650003").await, sorted(vec![maria]));
    api.ok(Method::PATCH, &format!("/v1/contacts/{pedro}"), admin, Some(json!({"status": "archived"}))).await;
    assert_eq!(search("status=archived").await, sorted(vec![pedro]));
    assert_eq!(search("status=active").await, sorted(vec![joao, joana, maria]));
    // Renaming moves the contact in the index within the same write.
    api.ok(Method::PATCH, &format!("/v1/contacts/{pedro}"), admin, Some(json!({"name": "Conceição"}))).await;
    assert_eq!(search("name=pedro").await, Vec::<String>::new());
    assert_eq!(search("name=conceicao").await, sorted(vec![pedro]));
    // Paging through a prefix returns each once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page =
            api.ok(Method::GET, &format!("/v1/contacts?name=j&limit=1&cursor={cursor}"), admin, None).await;
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    seen.sort();
    assert_eq!(seen, sorted(vec![joao, joana]));
    let (status, body) = api.call(Method::GET, "/v1/contacts?field=x", Some(admin), None).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = api.call(Method::GET, "/v1/contacts?phone=abc", Some(admin), None).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
}

impl Api {
    pub(crate) async fn call_raw(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/csv")
            .body(Body::from(body))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        (status, axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap().to_vec())
    }

    /// Uploads, starts with the suggested mapping and runs an import as the `transfer`
    /// function would; returns the finished import.
    async fn import(&self, a: &Tenant, file: &[u8], deps: Option<&atende_core::Deps>) -> Value {
        let admin = a.admin_token.as_str();
        let (status, body) = self.call_raw(Method::POST, "/v1/contact-imports", admin, file.to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{}", String::from_utf8_lossy(&body));
        let uploaded: Value = serde_json::from_slice(&body).unwrap();
        let id = uploaded["id"].as_str().unwrap().to_owned();
        let mapping = uploaded["suggested_mapping"].clone();
        let started = self
            .ok(
                Method::POST,
                &format!("/v1/contact-imports/{id}/start"),
                admin,
                Some(json!({"mapping": mapping})),
            )
            .await;
        assert_eq!(started["status"], "queued");
        let account = &a.account.account.id;
        if let Some(dying) = deps {
            let failed = atende_core::conversations::imports::run(dying, account, &id).await;
            assert!(failed.is_err(), "the dying table stops the run");
        }
        atende_core::conversations::imports::run(&self.ctx.deps, account, &id).await.unwrap();
        // A redelivered job changes nothing more.
        atende_core::conversations::imports::run(&self.ctx.deps, account, &id).await.unwrap();
        self.ok(Method::GET, &format!("/v1/contact-imports/{id}"), admin, None).await
    }
}

/// What Excel writes in Brazil: Windows-1252, `;`, CRLF.
fn latin1(text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(text);
    assert!(!unmappable);
    bytes.into_owned()
}

#[tokio::test]
async fn a_latin1_semicolon_csv_from_excel_imports_normalised_numbers_merges_duplicates_and_reports_bad_rows()
{
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = a.admin_token.as_str();
    api.ok(
        Method::POST,
        "/v1/custom-fields",
        admin,
        Some(json!({"key": "plano", "label": "Plano", "type": "choice", "options": ["Ouro", "Prata"]})),
    )
    .await;
    let vip = api.ok(Method::POST, "/v1/tags", admin, Some(json!({"name": "VIP"}))).await;
    let old = api
        .ok(
            Method::POST,
            "/v1/contacts",
            admin,
            Some(json!({"name": "Antigo", "phone": "+5511987654321", "email": "antigo@example.com"})),
        )
        .await;
    let file = latin1(
        "Nome;Telefone;E-mail;Etiquetas;Plano\r\n\
         João Conceição;(11) 98765-4321;joao@example.com;vip, Clientes;Ouro\r\n\
         Márcia;+55 11 8765-4322;marcia@example.com;VIP;prata\r\n\
         José;5511987654323;;;\r\n\
         João C.;5511987654321;;Atacado;\r\n\
         Sem número;;x@example.com;;\r\n\
         Errado;123;;;\r\n\
         Plano ruim;11987650009;;;Bronze\r\n",
    );
    api.create_user(admin, "agent@acme.example", "agent").await;
    let agent = api.login("agent@acme.example", "password123").await;
    let (status, _) = api.call_raw(Method::POST, "/v1/contact-imports", &agent, file.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = api.call_raw(Method::POST, "/v1/contact-imports", admin, b"Nome\r\n".to_vec()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{}", String::from_utf8_lossy(&body));

    let (status, body) = api.call_raw(Method::POST, "/v1/contact-imports", admin, file.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    let uploaded: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (uploaded["encoding"].as_str(), uploaded["separator"].as_str()),
        (Some("windows-1252"), Some(";"))
    );
    assert_eq!(uploaded["sample"][0][0], "João Conceição");
    assert_eq!(
        uploaded["suggested_mapping"],
        json!({"Nome": "name", "Telefone": "phone", "E-mail": "email", "Etiquetas": "tags", "Plano": "custom.plano"})
    );
    let id = uploaded["id"].as_str().unwrap();
    for (mapping, why) in [
        (json!({"Nome": "name"}), "phone"),
        (json!({"Telefone": "phone", "Nome": "custom.nope"}), "custom.nope"),
        (json!({"Telefone": "phone", "Coluna": "name"}), "Coluna"),
        (json!({"Telefone": "phone", "Nome": "name", "E-mail": "name"}), "two columns"),
    ] {
        let (status, body) = api
            .call(
                Method::POST,
                &format!("/v1/contact-imports/{id}/start"),
                Some(admin),
                Some(json!({"mapping": mapping})),
            )
            .await;
        assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(body["message"].as_str().unwrap().contains(why), "{why}: {body}");
    }

    let done = api.import(&a, &file, None).await;
    assert_eq!(done["status"], "done");
    let counts = |d: &Value| {
        ["total_rows", "rows_done", "created", "updated", "unchanged", "failed"]
            .map(|k| d[k].as_u64().unwrap())
    };
    assert_eq!(counts(&done), [7, 7, 2, 1, 0, 3], "{done}");

    let by_phone = |phone: &'static str| {
        let api = &api;
        async move {
            let page = api.ok(Method::GET, &format!("/v1/contacts?phone={phone}"), admin, None).await;
            assert_eq!(page["items"].as_array().unwrap().len(), 1, "{phone}: {page}");
            page["items"][0].clone()
        }
    };
    let joao = by_phone("5511987654321").await;
    assert_eq!(joao["id"], old["id"], "the existing contact was updated, not duplicated");
    assert_eq!(joao["name"], "João C.", "the later row of the same number wins");
    assert_eq!(joao["email"], "joao@example.com");
    assert_eq!(joao["custom"], json!({"plano": "Ouro"}));
    let tags = api.ok(Method::GET, "/v1/tags", admin, None).await;
    let tag_id = |name: &str| {
        tags["items"].as_array().unwrap().iter().find(|t| t["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        tags["items"].as_array().unwrap().len(),
        3,
        "VIP reused, Clientes and Atacado created: {tags}"
    );
    assert_eq!(joao["tags"], json!([vip["id"], tag_id("Clientes"), tag_id("Atacado")]));
    let marcia = by_phone("+5511987654322").await;
    assert_eq!((marcia["name"].as_str(), marcia["phone"].as_str()), (Some("Márcia"), Some("+5511987654322")));
    assert_eq!(
        (marcia["origin"].as_str(), marcia["custom"]["plano"].as_str()),
        (Some("import"), Some("Prata"))
    );
    assert_eq!(by_phone("5511987654323").await["name"], "José");

    let (status, report) = api
        .call_raw(
            Method::GET,
            &format!("/v1/contact-imports/{}/errors", done["id"].as_str().unwrap()),
            admin,
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let report = String::from_utf8(report).unwrap();
    let lines: Vec<&str> = report.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "linha;erro;Nome;Telefone;E-mail;Etiquetas;Plano");
    assert_eq!(lines.len(), 4, "{report}");
    assert!(lines[1].starts_with("6;no phone number;Sem número"), "{report}");
    assert!(lines[2].starts_with("7;\"phone \"\"123\"\": not a phone number"), "{report}");
    assert!(lines[3].starts_with("8;Plano (plano): one of Ouro, Prata;Plano ruim"), "{report}");

    // The same file again changes nothing more.
    let before = api.ok(Method::GET, "/v1/contacts", admin, None).await;
    let again = api.import(&a, &file, None).await;
    assert_eq!(counts(&again), [7, 7, 0, 0, 3, 3], "{again}");
    assert_eq!(api.ok(Method::GET, "/v1/contacts", admin, None).await, before);
    let listed = api.ok(Method::GET, "/v1/contact-imports", admin, None).await;
    assert_eq!(listed["items"][0]["id"], again["id"], "newest first");
}

#[tokio::test]
async fn an_import_that_dies_halfway_resumes_and_counts_each_row_once() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let mut file = "nome,celular\n".to_owned();
    for i in 0..600 {
        file.push_str(&format!("Cliente {i},+55 11 9{:04}-{:04}\n", 7000 + i / 10_000, i));
    }
    let mut dying = api.ctx.deps.clone();
    dying.table = Arc::new(atende_testkit::faults::TableThatDies::after(api.ctx.deps.table.clone(), 400));
    let done = api.import(&a, file.as_bytes(), Some(&dying)).await;
    let counts =
        ["rows_done", "created", "updated", "unchanged", "failed"].map(|k| done[k].as_u64().unwrap());
    assert_eq!(counts, [600, 600, 0, 0, 0], "{done}");
    let mut seen = BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let page = api
            .ok(Method::GET, &format!("/v1/contacts?limit=100&cursor={cursor}"), &a.admin_token, None)
            .await;
        for c in page["items"].as_array().unwrap() {
            assert!(seen.insert(c["phone"].as_str().unwrap().to_owned()), "one contact per number");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen.len(), 600);
}

#[tokio::test]
async fn quick_replies_are_filled_for_the_session_and_each_agent_lists_only_what_they_may_use() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = a.admin_token.as_str();
    let sales = api.create_team(admin, "Vendas").await;
    let ana = api.create_user(admin, "ana@acme.example", "agent").await;
    api.create_user(admin, "bia@acme.example", "agent").await;
    api.ok(Method::PUT, &format!("/v1/teams/{sales}/members/{ana}"), admin, Some(json!({"member": true})))
        .await;
    let ana_token = api.login("ana@acme.example", "password123").await;
    let bia_token = api.login("bia@acme.example", "password123").await;
    api.ok(
        Method::POST,
        "/v1/custom-fields",
        admin,
        Some(json!({"key": "plano", "label": "Plano", "type": "text"})),
    )
    .await;
    let reply = |shortcut: &str, text: &str, visibility: &str, team: Option<&str>| json!({"shortcut": shortcut, "text": text, "visibility": visibility, "team_id": team});
    let all = api
        .ok(Method::POST, "/v1/quick-replies", admin, Some(reply("/Saudacao", "Olá {{first_name}}, aqui é {{ agent.first_name }} (protocolo {{protocol}}, plano {{custom.plano}}).", "everyone", None)))
        .await;
    let team = api
        .ok(
            Method::POST,
            "/v1/quick-replies",
            admin,
            Some(reply("boleto", "Segue o boleto", "team", Some(&sales))),
        )
        .await;
    let mine = api
        .ok(Method::POST, "/v1/quick-replies", &ana_token, Some(reply("pix", "Minha chave pix", "me", None)))
        .await;
    for (token, body, expected) in [
        (&ana_token, reply("geral", "x", "everyone", None), StatusCode::FORBIDDEN),
        (&ana_token, reply("time", "x", "team", Some(&sales)), StatusCode::FORBIDDEN),
        (&ana_token, reply("semtime", "x", "team", None), StatusCode::UNPROCESSABLE_ENTITY),
        (&ana_token, reply("com espaço", "x", "me", None), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, response) = api.call(Method::POST, "/v1/quick-replies", Some(token), Some(body)).await;
        assert_error(status, &response, expected);
    }
    let shortcuts = |token: &str, q: &str| {
        let api = &api;
        let (token, q) = (token.to_owned(), q.to_owned());
        async move {
            let listed = api.ok(Method::GET, &format!("/v1/quick-replies?q={q}"), &token, None).await;
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["shortcut"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(shortcuts(&ana_token, "").await, vec!["boleto", "pix", "saudacao"]);
    assert_eq!(shortcuts(&bia_token, "").await, vec!["saudacao"], "not Ana's, not a team's Bia is not in");
    assert_eq!(shortcuts(&ana_token, "/b").await, vec!["boleto"]);
    for (token, reply) in [(&bia_token, &mine), (&bia_token, &team)] {
        let (status, body) = api
            .call(
                Method::GET,
                &format!("/v1/quick-replies/{}", reply["id"].as_str().unwrap()),
                Some(token),
                None,
            )
            .await;
        assert_error(status, &body, StatusCode::NOT_FOUND);
    }
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/v1/quick-replies/{}", all["id"].as_str().unwrap()),
            Some(&ana_token),
            Some(reply("x", "y", "everyone", None)),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let changed = api
        .ok(
            Method::PUT,
            &format!("/v1/quick-replies/{}", mine["id"].as_str().unwrap()),
            &ana_token,
            Some(reply("pix", "Chave: 123", "me", None)),
        )
        .await;
    assert_eq!(changed["text"], "Chave: 123");

    // Filled for a session: the contact, the session, the agent.
    let (status, started) = super::start_on_sandbox(&api, &a).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let session = started["session"]["id"].as_str().unwrap().to_owned();
    let contact = started["session"]["contact_id"].as_str().unwrap().to_owned();
    api.ok(
        Method::PATCH,
        &format!("/v1/contacts/{contact}"),
        admin,
        Some(json!({"name": "Maria da Silva", "custom": {"plano": "Ouro"}})),
    )
    .await;
    api.ok(Method::PATCH, "/v1/me", admin, Some(json!({"display_name": "Carla Souza"}))).await;
    let rendered = api
        .ok(
            Method::POST,
            &format!("/v1/quick-replies/{}/render", all["id"].as_str().unwrap()),
            admin,
            Some(json!({"session_id": session})),
        )
        .await;
    let protocol = started["session"]["protocol"].as_str().unwrap();
    assert_eq!(rendered["text"], format!("Olá Maria, aqui é Carla (protocolo {protocol}, plano Ouro)."));
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/v1/quick-replies/{}/render", all["id"].as_str().unwrap()),
            Some(&bia_token),
            Some(json!({"session_id": session})),
        )
        .await;
    assert_error(status, &body, StatusCode::NOT_FOUND);
    api.ok(Method::DELETE, &format!("/v1/quick-replies/{}", mine["id"].as_str().unwrap()), &ana_token, None)
        .await;
    assert_eq!(shortcuts(&ana_token, "").await, vec!["boleto", "saudacao"]);
}

/// A panel's board as card ids per column.
async fn board(api: &Api, pid: &str, token: &str) -> Vec<Vec<String>> {
    let b = api.ok(Method::GET, &format!("/v1/panels/{pid}"), token, None).await;
    b["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["cards"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap().to_owned()).collect()
        })
        .collect()
}

#[tokio::test]
async fn kanban_cards_keep_a_stable_order_and_concurrent_moves_never_lose_one() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = a.admin_token.as_str();
    let panel = api
        .ok(Method::POST, "/v1/panels", admin, Some(json!({"name": "Funil", "columns": [{"name": "Lead"}, {"name": "Proposta"}, {"name": "Fechado"}]})))
        .await;
    let pid = panel["id"].as_str().unwrap().to_owned();
    let col: Vec<String> =
        panel["columns"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect();
    let contact = api.ok(Method::POST, "/v1/contacts", admin, Some(json!({"phone": "+5511987650001"}))).await;
    let cid = contact["id"].as_str().unwrap();
    let (status, body) = api
        .call(
            Method::POST,
            &format!("/v1/panels/{pid}/cards"),
            Some(admin),
            Some(json!({"title": "x", "contact_id": "nope"})),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let mut cards = Vec::new();
    for i in 0..12 {
        let card = api
            .ok(
                Method::POST,
                &format!("/v1/panels/{pid}/cards"),
                admin,
                Some(json!({"title": format!("Negócio {i}"), "contact_id": cid, "value_cents": 1000 * i, "due_date": "2026-12-01"})),
            )
            .await;
        cards.push(card["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        board(&api, &pid, admin).await,
        vec![cards.clone(), vec![], vec![]],
        "cards go to the end of the first column"
    );
    // Within a column: card 11 to the top, card 0 after card 5.
    let mv = |card: &str, column: &str, after: Option<&str>| {
        (format!("/v1/panels/{pid}/cards/{card}/move"), json!({"column_id": column, "after_card_id": after}))
    };
    let (path, body) = mv(&cards[11], &col[0], None);
    api.ok(Method::POST, &path, admin, Some(body)).await;
    let (path, body) = mv(&cards[0], &col[0], Some(&cards[5]));
    api.ok(Method::POST, &path, admin, Some(body)).await;
    let mut expected = vec![cards[11].clone()];
    expected.extend(cards[1..=5].iter().cloned());
    expected.push(cards[0].clone());
    expected.extend(cards[6..11].iter().cloned());
    assert_eq!(board(&api, &pid, admin).await[0], expected);
    // Everyone moves a different card to the top of "Proposta" at once; two more move the same card.
    let mut requests: Vec<(String, Value)> = cards.iter().map(|card| mv(card, &col[1], None)).collect();
    requests.push(mv(&cards[3], &col[2], None));
    requests.push(mv(&cards[3], &col[2], None));
    let moves = requests.into_iter().map(|(path, body)| {
        let api = &api;
        async move { api.call(Method::POST, &path, Some(admin), Some(body)).await.0 }
    });
    let statuses: Vec<StatusCode> = futures::future::join_all(moves).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT), "{statuses:?}");
    let after = board(&api, &pid, admin).await;
    let mut all: Vec<String> = after.iter().flatten().cloned().collect();
    all.sort();
    let mut want = cards.clone();
    want.sort();
    assert_eq!(all, want, "every card once, none lost or doubled: {after:?}");
    assert_eq!(board(&api, &pid, admin).await, after, "the order is stable between reads");
    // A column with cards stays; an emptied one can go.
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/v1/panels/{pid}"),
            Some(admin),
            Some(json!({"name": "Funil", "columns": [{"id": col[0], "name": "Lead"}]})),
        )
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let card = api
        .ok(
            Method::PATCH,
            &format!("/v1/panels/{pid}/cards/{}", cards[1]),
            admin,
            Some(json!({"title": "Renomeado", "value_cents": 5})),
        )
        .await;
    assert_eq!((card["title"].as_str(), card["value_cents"].as_i64()), (Some("Renomeado"), Some(5)));
    api.ok(Method::DELETE, &format!("/v1/panels/{pid}/cards/{}", cards[1]), admin, None).await;
    assert_eq!(board(&api, &pid, admin).await.iter().flatten().count(), 11);
    api.create_user(admin, "agent@acme.example", "agent").await;
    let agent = api.login("agent@acme.example", "password123").await;
    let (status, body) = api
        .call(
            Method::POST,
            "/v1/panels",
            Some(&agent),
            Some(json!({"name": "x", "columns": [{"name": "a"}]})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    api.ok(Method::DELETE, &format!("/v1/panels/{pid}"), admin, None).await;
    let listed = api.ok(Method::GET, "/v1/panels", admin, None).await;
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn completion_is_checked_against_the_reasons_and_only_who_completed_may_reclassify() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = a.admin_token.as_str();
    let sale = api
        .ok(
            Method::POST,
            "/v1/classification-reasons",
            admin,
            Some(json!({"category": "won", "name": "Venda", "requires_amount": true})),
        )
        .await;
    let price = api
        .ok(
            Method::POST,
            "/v1/classification-reasons",
            admin,
            Some(json!({"category": "lost", "name": "Preço"})),
        )
        .await;
    let listed = api.ok(Method::GET, "/v1/classification-reasons", admin, None).await;
    let names: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Venda", "Preço"], "by category order, then name");
    let (_, started) = super::start_on_sandbox(&api, &a).await;
    let session = started["session"]["id"].as_str().unwrap().to_owned();
    let complete = |c: Value| (format!("/v1/sessions/{session}/complete"), json!({"classification": c}));
    for (c, why) in [
        (json!({"category": "won", "reason_id": sale["id"]}), "asks for an amount"),
        (json!({"category": "won", "reason_id": price["id"], "amount_cents": 1}), "another category"),
        (json!({"category": "won", "reason_id": "nope"}), "no reason"),
        (json!({"category": "won", "amount_cents": -5}), "zero or more"),
    ] {
        let (path, body) = complete(c);
        let (status, response) = api.call(Method::POST, &path, Some(admin), Some(body)).await;
        assert_error(status, &response, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response["message"].as_str().unwrap().contains(why), "{why}: {response}");
    }
    let (path, body) = complete(json!({"category": "won", "reason_id": sale["id"], "amount_cents": 150000}));
    let done = api.ok(Method::POST, &path, admin, Some(body)).await;
    assert_eq!(done["classification"]["amount_cents"], 150000);

    api.create_user(admin, "outra@acme.example", "admin").await;
    let other_token = api.login("outra@acme.example", "password123").await;
    let path = format!("/v1/sessions/{session}/classification");
    let lost = json!({"category": "lost", "reason_id": price["id"]});
    let (status, body) = api.call(Method::PUT, &path, Some(&other_token), Some(lost.clone())).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let changed = api.ok(Method::PUT, &path, admin, Some(lost)).await;
    assert_eq!(changed["classification"]["reason_id"], price["id"]);
    let (status, body) = api
        .call(Method::PUT, &path, Some(admin), Some(json!({"category": "won", "reason_id": sale["id"]})))
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
}
