//! The API over HTTP semantics (in-process, embedded storage, injected clock).

use atende_core::accounts::provisioning::{NewAccount, ProvisionedAccount, create_account};
use atende_core::ports::{Clock, ManualClock};
use atende_core::secret::Secret;
use atende_runtime::AppContext;
use atende_runtime::settings::LocalSettings;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

struct Api {
    router: Router,
    ctx: AppContext,
    clock: ManualClock,
    _dir: tempfile::TempDir,
}

struct Tenant {
    admin_token: String,
    account: ProvisionedAccount,
}

impl Api {
    fn new() -> Self {
        Self::with_deps(|_| {})
    }

    /// An API whose ports are first changed by `change` (to inject failing backends).
    fn with_deps(change: impl FnOnce(&mut atende_core::Deps)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::starting_now();
        let settings = LocalSettings {
            graph_url: "http://127.0.0.1:9".into(),
            graph_timeout: Duration::from_secs(1),
            ..LocalSettings::in_dir(dir.path())
        };
        let (mut ctx, _) = AppContext::embedded(&settings, Arc::new(clock.clone())).unwrap();
        change(&mut ctx.deps);
        Self { router: atende_api::router(ctx.clone()), ctx, clock, _dir: dir }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => {
                request.header("content-type", "application/json").body(Body::from(body.to_string()))
            }
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or(Value::Null)
        };
        (status, value)
    }

    async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .call(Method::POST, "/v1/auth/login", None, Some(json!({"email": email, "password": password})))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn tenant(&self, name: &str) -> Tenant {
        let email = format!("admin@{}.example", name.to_lowercase());
        let account = create_account(
            &self.ctx.deps,
            NewAccount {
                name: name.into(),
                admin_email: email.clone(),
                admin_password: Secret::new("a good password"),
                admin_name: Some(format!("{name} Admin")),
            },
        )
        .await
        .unwrap();
        Tenant { admin_token: self.login(&email, "a good password").await, account }
    }

    async fn create_user(&self, token: &str, email: &str, profile: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/users",
                Some(token),
                Some(
                    json!({"email": email, "password": "password123", "name": "Someone", "profile": profile}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    async fn create_team(&self, token: &str, name: &str) -> String {
        let (status, body) =
            self.call(Method::POST, "/v1/teams", Some(token), Some(json!({"name": name}))).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert!(body["error"].is_string() && body["message"].is_string(), "error body shape: {body}");
}

#[tokio::test]
async fn login_returns_a_token_that_me_accepts() {
    let api = Api::new();
    let tenant = api.tenant("Acme").await;
    let (status, me) = api.call(Method::GET, "/v1/me", Some(&tenant.admin_token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["email"], "admin@acme.example");
    assert_eq!(me["user"]["profile"], "admin");
    assert_eq!(me["account"]["id"], tenant.account.account.id);
    assert_eq!(me["teams"][0]["team_id"], tenant.account.default_team.id);
    assert!(me["user"].get("password_hash").is_none(), "the hash never leaves the server");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let api = Api::new();
    api.tenant("Acme").await;
    let wrong = api
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": "admin@acme.example", "password": "nope-nope"})),
        )
        .await;
    let unknown = api
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": "who@acme.example", "password": "nope-nope"})),
        )
        .await;
    assert_error(wrong.0, &wrong.1, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn a_session_token_stops_working_when_it_expires() {
    let api = Api::new();
    let tenant = api.tenant("Acme").await;
    api.clock.advance(chrono::Duration::hours(12) + chrono::Duration::seconds(1));
    let (status, body) = api.call(Method::GET, "/v1/me", Some(&tenant.admin_token), None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_forged_or_missing_token_is_refused() {
    let api = Api::new();
    let tenant = api.tenant("Acme").await;
    let mut forged = tenant.admin_token.clone();
    forged.pop();
    forged.push('x');
    for token in [Some(forged.as_str()), Some("atd_x_y_z"), None] {
        let (status, body) = api.call(Method::GET, "/v1/me", token, None).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn agents_cannot_manage_users_teams_or_tokens() {
    let api = Api::new();
    let tenant = api.tenant("Acme").await;
    api.create_user(&tenant.admin_token, "agent@acme.example", "agent").await;
    let agent = api.login("agent@acme.example", "password123").await;
    let attempts = [
        (
            Method::POST,
            "/v1/users",
            Some(
                json!({"email": "x@acme.example", "password": "password123", "name": "X", "profile": "admin"}),
            ),
        ),
        (Method::POST, "/v1/teams", Some(json!({"name": "Sales"}))),
        (Method::GET, "/v1/api-tokens", None),
        (Method::POST, "/v1/api-tokens", Some(json!({"name": "crm"}))),
        (Method::GET, "/v1/webhook-endpoints", None),
        (Method::POST, "/v1/webhook-endpoints", Some(json!({"url": "https://crm.example/hook"}))),
        (Method::GET, "/v1/audit", None),
        (Method::GET, "/v1/reports/summary?from=2026-01-01&to=2026-01-31", None),
        (Method::GET, "/v1/reports/waiting", None),
        (Method::POST, "/v1/reports/exports", Some(json!({"from": "2026-01-01", "to": "2026-01-31"}))),
    ];
    for (method, path, body) in attempts {
        let (status, response) = api.call(method.clone(), path, Some(&agent), body).await;
        assert_error(status, &response, StatusCode::FORBIDDEN);
    }
    let (status, users) = api.call(Method::GET, "/v1/users", Some(&agent), None).await;
    assert_eq!(status, StatusCode::OK, "agents may list their colleagues");
    assert_eq!(users["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_taken_email_is_a_conflict_even_across_accounts() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let b = api.tenant("Beta").await;
    api.create_user(&a.admin_token, "shared@x.example", "agent").await;
    let (status, body) = api
        .call(Method::POST, "/v1/users", Some(&b.admin_token), Some(json!({"email": "SHARED@x.example", "password": "password123", "name": "S", "profile": "agent"})))
        .await;
    assert_error(status, &body, StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_deleted_user_loses_access_at_once_and_frees_the_email() {
    let api = Api::new();
    let tenant = api.tenant("Acme").await;
    let id = api.create_user(&tenant.admin_token, "leaver@acme.example", "agent").await;
    let session = api.login("leaver@acme.example", "password123").await;
    let (status, _) =
        api.call(Method::DELETE, &format!("/v1/users/{id}"), Some(&tenant.admin_token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.call(Method::GET, "/v1/me", Some(&session), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the live session dies with the user");
    let (status, _) = api
        .call(
            Method::POST,
            "/v1/auth/login",
            None,
            Some(json!({"email": "leaver@acme.example", "password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, listed) = api.call(Method::GET, "/v1/users", Some(&tenant.admin_token), None).await;
    assert!(listed["items"].as_array().unwrap().iter().all(|u| u["id"] != id.as_str()));
    let (_, all) =
        api.call(Method::GET, "/v1/users?include_deleted=true", Some(&tenant.admin_token), None).await;
    let kept = all["items"].as_array().unwrap().iter().find(|u| u["id"] == id.as_str()).cloned().unwrap();
    assert!(kept["deleted_at"].is_string(), "deleted logically, kept for history");
    api.create_user(&tenant.admin_token, "leaver@acme.example", "agent").await;
}

#[tokio::test]
async fn admins_cannot_delete_or_demote_themselves() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    let me = &t.account.admin.id;
    let (status, body) =
        api.call(Method::DELETE, &format!("/v1/users/{me}"), Some(&t.admin_token), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = api
        .call(
            Method::PATCH,
            &format!("/v1/users/{me}"),
            Some(&t.admin_token),
            Some(json!({"profile": "agent"})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_admin_changes_a_user_and_the_version_moves_on() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    let id = api.create_user(&t.admin_token, "ana@acme.example", "agent").await;
    let (status, user) = api
        .call(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(&t.admin_token),
            Some(json!({"display_name": "Ana", "available": false, "profile": "restricted_agent"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["display_name"], "Ana");
    assert_eq!(user["available"], false);
    assert_eq!(user["profile"], "restricted_agent");
    assert_eq!(user["version"], 2);
    let (_, cleared) = api
        .call(
            Method::PATCH,
            &format!("/v1/users/{id}"),
            Some(&t.admin_token),
            Some(json!({"display_name": "  "})),
        )
        .await;
    assert_eq!(cleared["display_name"], Value::Null, "a blank display name means no signature");
}

#[tokio::test]
async fn users_change_their_own_password_only_with_the_current_one() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    api.create_user(&t.admin_token, "ana@acme.example", "agent").await;
    let session = api.login("ana@acme.example", "password123").await;
    let (status, body) = api
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&session),
            Some(json!({"password": "new password 1", "current_password": "wrong"})),
        )
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, _) = api
        .call(
            Method::PATCH,
            "/v1/me",
            Some(&session),
            Some(json!({"password": "new password 1", "current_password": "password123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    api.login("ana@acme.example", "new password 1").await;
}

#[tokio::test]
async fn teams_have_one_default_which_cannot_be_deleted() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    let default = t.account.default_team.id.clone();
    let (status, body) =
        api.call(Method::DELETE, &format!("/v1/teams/{default}"), Some(&t.admin_token), None).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let sales = api.create_team(&t.admin_token, "Sales").await;
    let (status, team) = api
        .call(
            Method::PATCH,
            &format!("/v1/teams/{sales}"),
            Some(&t.admin_token),
            Some(json!({"is_default": true, "visibility": "owner"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{team}");
    assert_eq!(team["is_default"], true);
    assert_eq!(team["visibility"], "owner");
    let (_, list) = api.call(Method::GET, "/v1/teams", Some(&t.admin_token), None).await;
    let defaults: Vec<&Value> =
        list["items"].as_array().unwrap().iter().filter(|t| t["is_default"] == true).collect();
    assert_eq!(defaults.len(), 1);
    assert_eq!(defaults[0]["id"], sales.as_str());
    let (status, _) =
        api.call(Method::DELETE, &format!("/v1/teams/{default}"), Some(&t.admin_token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the old default can go now");
}

#[tokio::test]
async fn members_and_supervisors_are_listed_in_membership_order() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    let team = api.create_team(&t.admin_token, "Support").await;
    let ana = api.create_user(&t.admin_token, "ana@acme.example", "agent").await;
    let bia = api.create_user(&t.admin_token, "bia@acme.example", "agent").await;
    for (user, roles) in
        [(&bia, json!({"member": true})), (&ana, json!({"member": false, "supervisor": true}))]
    {
        api.clock.advance(chrono::Duration::seconds(1));
        let (status, body) = api
            .call(Method::PUT, &format!("/v1/teams/{team}/members/{user}"), Some(&t.admin_token), Some(roles))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/v1/teams/{team}/members/{ana}"),
            Some(&t.admin_token),
            Some(json!({"member": false, "supervisor": false})),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, members) =
        api.call(Method::GET, &format!("/v1/teams/{team}/members"), Some(&t.admin_token), None).await;
    let order: Vec<&str> =
        members["items"].as_array().unwrap().iter().map(|m| m["user_id"].as_str().unwrap()).collect();
    assert_eq!(order, vec![bia.as_str(), ana.as_str()]);
    assert_eq!(members["items"][1]["supervisor"], true);
    let (status, _) = api
        .call(Method::DELETE, &format!("/v1/teams/{team}/members/{bia}"), Some(&t.admin_token), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, members) =
        api.call(Method::GET, &format!("/v1/teams/{team}/members"), Some(&t.admin_token), None).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_api_token_is_shown_once_acts_as_its_creator_and_dies_when_revoked() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    let (status, created) =
        api.call(Method::POST, "/v1/api-tokens", Some(&t.admin_token), Some(json!({"name": "ERP"}))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let token = created["token"].as_str().unwrap().to_owned();
    let (_, list) = api.call(Method::GET, "/v1/api-tokens", Some(&t.admin_token), None).await;
    assert_eq!(list["items"][0]["name"], "ERP");
    assert!(!list.to_string().contains(&token), "the secret is never listed");
    let (status, me) = api.call(Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["user"]["id"], t.account.admin.id);
    let id = created["id"].as_str().unwrap();
    let (status, _) =
        api.call(Method::DELETE, &format!("/v1/api-tokens/{id}"), Some(&t.admin_token), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.call(Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn bad_input_gets_a_clear_json_error() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    // 400: the request does not fit the schema; 422: it fits, but breaks a rule.
    let cases: Vec<(Method, &str, Option<Value>, StatusCode)> = vec![
        (
            Method::POST,
            "/v1/users",
            Some(
                json!({"email": "not-an-email", "password": "password123", "name": "X", "profile": "agent"}),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/users",
            Some(json!({"email": "a@b.example", "password": "short", "name": "X", "profile": "agent"})),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            Method::POST,
            "/v1/users",
            Some(json!({"email": "a@b.example", "password": "password123", "name": "X", "profile": "boss"})),
            StatusCode::BAD_REQUEST,
        ),
        (Method::POST, "/v1/teams", Some(json!({"name": ""})), StatusCode::UNPROCESSABLE_ENTITY),
        (Method::POST, "/v1/teams", Some(json!([1, 2])), StatusCode::BAD_REQUEST),
        (Method::POST, "/v1/teams", Some(json!("Suporte")), StatusCode::BAD_REQUEST),
        (Method::GET, "/v1/users?limit=abc", None, StatusCode::BAD_REQUEST),
        (Method::GET, "/v1/users?limit=0", None, StatusCode::UNPROCESSABLE_ENTITY),
        (Method::GET, "/v1/users?limit=101", None, StatusCode::UNPROCESSABLE_ENTITY),
        (Method::GET, "/v1/users?cursor=garbage", None, StatusCode::BAD_REQUEST),
        (Method::GET, "/v1/nothing-here", None, StatusCode::NOT_FOUND),
        (Method::DELETE, "/v1/me", None, StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (method, path, body, expected) in cases {
        let (status, response) = api.call(method, path, Some(&t.admin_token), body).await;
        assert_error(status, &response, expected);
    }
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/teams")
        .header("authorization", format!("Bearer {}", t.admin_token))
        .header("content-type", "text/plain")
        .body(Body::from("name=x"))
        .unwrap();
    assert_eq!(
        api.router.clone().oneshot(request).await.unwrap().status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let (status, body) = api.call(Method::POST, "/v1/teams", Some(&t.admin_token), Some(huge)).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn users_are_paginated_without_loss_or_repeats() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    for i in 0..7 {
        api.create_user(&t.admin_token, &format!("u{i}@acme.example"), "agent").await;
    }
    let mut seen = Vec::new();
    let mut path = "/v1/users?limit=3".to_owned();
    loop {
        let (status, page) = api.call(Method::GET, &path, Some(&t.admin_token), None).await;
        assert_eq!(status, StatusCode::OK);
        seen.extend(page["items"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()));
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/users?limit=3&cursor={c}"),
            None => break,
        }
    }
    let unique: BTreeSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), 8);
    assert_eq!(unique.len(), 8);
}

/// Every (method, path) the API serves behind authentication, with how the isolation test
/// below exercises it against another account's ids.
const ISOLATED_ROUTES: &[(&str, &str)] = &[
    ("get", "/v1/users/{id}"),
    ("patch", "/v1/users/{id}"),
    ("delete", "/v1/users/{id}"),
    ("get", "/v1/teams/{id}"),
    ("patch", "/v1/teams/{id}"),
    ("delete", "/v1/teams/{id}"),
    ("get", "/v1/teams/{id}/members"),
    ("put", "/v1/teams/{id}/members/{user_id}"),
    ("delete", "/v1/teams/{id}/members/{user_id}"),
    ("delete", "/v1/api-tokens/{id}"),
    // Routes without ids: scoped by construction, checked for leaks in their answers.
    ("get", "/v1/users"),
    ("post", "/v1/users"),
    ("get", "/v1/teams"),
    ("post", "/v1/teams"),
    ("get", "/v1/api-tokens"),
    ("post", "/v1/api-tokens"),
    ("get", "/v1/me"),
    ("patch", "/v1/me"),
    ("post", "/v1/auth/login"),
    ("get", "/v1/account"),
    ("patch", "/v1/account"),
    ("get", "/v1/channels"),
    ("post", "/v1/channels"),
    ("get", "/v1/channels/{id}"),
    ("patch", "/v1/channels/{id}"),
    ("delete", "/v1/channels/{id}"),
    ("get", "/v1/contacts"),
    ("post", "/v1/contacts"),
    ("get", "/v1/contacts/{id}"),
    ("patch", "/v1/contacts/{id}"),
    ("get", "/v1/templates"),
    ("post", "/v1/templates"),
    ("get", "/v1/templates/{id}"),
    ("put", "/v1/templates/{id}"),
    ("delete", "/v1/templates/{id}"),
    ("post", "/v1/channels/{id}/templates/sync"),
    ("get", "/v1/sessions"),
    ("post", "/v1/sessions"),
    ("get", "/v1/sessions/counts"),
    ("post", "/v1/sessions/bulk-complete"),
    ("get", "/v1/sessions/{id}"),
    ("get", "/v1/sessions/{id}/messages"),
    ("post", "/v1/sessions/{id}/messages"),
    ("post", "/v1/sessions/{id}/assume"),
    ("post", "/v1/sessions/{id}/return"),
    ("post", "/v1/sessions/{id}/complete"),
    ("post", "/v1/sessions/{id}/restart"),
    ("post", "/v1/sessions/{id}/transfer"),
    ("put", "/v1/sessions/{id}/tags"),
    ("get", "/v1/sessions/{id}/notes"),
    ("post", "/v1/sessions/{id}/notes"),
    ("patch", "/v1/sessions/{id}/notes/{note_id}"),
    ("delete", "/v1/sessions/{id}/notes/{note_id}"),
    ("post", "/v1/messages/{id}/cancel"),
    ("post", "/v1/uploads"),
    ("post", "/v1/uploads/presign"),
    ("get", "/v1/messages/{id}/media"),
    ("get", "/v1/wallets"),
    ("post", "/v1/wallets"),
    ("get", "/v1/wallets/{id}"),
    ("put", "/v1/wallets/{id}"),
    ("delete", "/v1/wallets/{id}"),
    ("put", "/v1/wallets/{id}/contacts/{contact_id}"),
    ("delete", "/v1/wallets/{id}/contacts/{contact_id}"),
    ("get", "/v1/business-hours"),
    ("put", "/v1/business-hours"),
    ("delete", "/v1/business-hours"),
    ("get", "/v1/business-hours/status"),
    ("get", "/v1/channels/{id}/business-hours"),
    ("put", "/v1/channels/{id}/business-hours"),
    ("get", "/v1/channels/{id}/keep-alive"),
    ("put", "/v1/channels/{id}/keep-alive"),
    ("get", "/v1/tags"),
    ("post", "/v1/tags"),
    ("get", "/v1/tags/{id}"),
    ("patch", "/v1/tags/{id}"),
    ("delete", "/v1/tags/{id}"),
    ("get", "/v1/scheduled-messages"),
    ("post", "/v1/scheduled-messages"),
    ("get", "/v1/scheduled-messages/{id}"),
    ("post", "/v1/scheduled-messages/{id}/cancel"),
    ("post", "/v1/scheduled-messages/{id}/reschedule"),
    ("get", "/v1/custom-fields"),
    ("post", "/v1/custom-fields"),
    ("get", "/v1/custom-fields/{key}"),
    ("patch", "/v1/custom-fields/{key}"),
    ("delete", "/v1/custom-fields/{key}"),
    ("post", "/v1/contacts/unblock"),
    ("get", "/v1/contact-imports"),
    ("post", "/v1/contact-imports"),
    ("post", "/v1/contact-imports/from-upload"),
    ("get", "/v1/contact-imports/{id}"),
    ("post", "/v1/contact-imports/{id}/start"),
    ("get", "/v1/contact-imports/{id}/errors"),
    ("get", "/v1/contacts/{id}/export"),
    ("post", "/v1/contacts/{id}/erasure"),
    ("get", "/v1/contacts/{id}/erasure"),
    ("get", "/v1/quick-replies"),
    ("post", "/v1/quick-replies"),
    ("get", "/v1/quick-replies/{id}"),
    ("put", "/v1/quick-replies/{id}"),
    ("delete", "/v1/quick-replies/{id}"),
    ("post", "/v1/quick-replies/{id}/render"),
    ("get", "/v1/panels"),
    ("post", "/v1/panels"),
    ("get", "/v1/panels/{id}"),
    ("put", "/v1/panels/{id}"),
    ("delete", "/v1/panels/{id}"),
    ("post", "/v1/panels/{id}/cards"),
    ("patch", "/v1/panels/{id}/cards/{card_id}"),
    ("delete", "/v1/panels/{id}/cards/{card_id}"),
    ("post", "/v1/panels/{id}/cards/{card_id}/move"),
    ("get", "/v1/classification-reasons"),
    ("post", "/v1/classification-reasons"),
    ("get", "/v1/classification-reasons/{id}"),
    ("put", "/v1/classification-reasons/{id}"),
    ("delete", "/v1/classification-reasons/{id}"),
    ("put", "/v1/sessions/{id}/classification"),
    ("get", "/v1/teams/{id}/csat"),
    ("put", "/v1/teams/{id}/csat"),
    ("get", "/v1/channels/{id}/csat"),
    ("put", "/v1/channels/{id}/csat"),
    ("get", "/v1/sessions/{id}/csat"),
    ("get", "/v1/csat/results"),
    ("get", "/v1/campaigns"),
    ("post", "/v1/campaigns"),
    ("get", "/v1/campaigns/{id}"),
    ("patch", "/v1/campaigns/{id}"),
    ("delete", "/v1/campaigns/{id}"),
    ("post", "/v1/campaigns/{id}/start"),
    ("post", "/v1/campaigns/{id}/pause"),
    ("post", "/v1/campaigns/{id}/resume"),
    ("post", "/v1/campaigns/{id}/cancel"),
    ("get", "/v1/campaigns/{id}/report"),
    ("get", "/v1/campaigns/{id}/recipients"),
    ("post", "/v1/campaigns/{id}/export"),
    ("get", "/v1/campaigns/{id}/estimate"),
    ("get", "/v1/campaign-settings"),
    ("put", "/v1/campaign-settings"),
    ("get", "/v1/sequences"),
    ("post", "/v1/sequences"),
    ("get", "/v1/sequences/{id}"),
    ("patch", "/v1/sequences/{id}"),
    ("delete", "/v1/sequences/{id}"),
    ("get", "/v1/sequences/{id}/enrolments"),
    ("post", "/v1/sequences/{id}/enrolments"),
    ("delete", "/v1/sequences/{id}/enrolments/{contact_id}"),
    ("delete", "/v1/contacts/{id}/marketing-opt-out"),
    ("get", "/v1/flows/schema"),
    ("get", "/v1/flows"),
    ("post", "/v1/flows"),
    ("get", "/v1/flows/{id}"),
    ("patch", "/v1/flows/{id}"),
    ("delete", "/v1/flows/{id}"),
    ("post", "/v1/flows/{id}/publish"),
    ("get", "/v1/flows/{id}/versions/{version}"),
    ("get", "/v1/channels/{id}/flow-triggers"),
    ("put", "/v1/channels/{id}/flow-triggers"),
    ("post", "/v1/sessions/{id}/flow"),
    ("post", "/v1/sessions/{id}/flow/stop"),
    ("get", "/v1/sessions/{id}/flow-runs"),
    ("post", "/v1/sessions/{id}/payments"),
    ("get", "/v1/sessions/{id}/payments"),
    ("get", "/v1/contacts/{id}/payments"),
    ("get", "/v1/payments/{id}"),
    ("post", "/v1/payments/{id}/cancel"),
    ("post", "/v1/payments/{id}/refund"),
    ("get", "/v1/payments"),
    ("get", "/v1/payment-settings"),
    ("put", "/v1/payment-settings"),
    ("get", "/v1/audit"),
    ("get", "/v1/webhook-endpoints"),
    ("post", "/v1/webhook-endpoints"),
    ("get", "/v1/webhook-endpoints/{id}"),
    ("patch", "/v1/webhook-endpoints/{id}"),
    ("delete", "/v1/webhook-endpoints/{id}"),
    ("post", "/v1/webhook-endpoints/{id}/rotate-secret"),
    ("get", "/v1/webhook-endpoints/{id}/deliveries"),
    ("post", "/v1/webhook-endpoints/{id}/replay"),
    ("get", "/v1/webhook-event-types"),
    ("get", "/v1/reports/summary"),
    ("get", "/v1/reports/waiting"),
    ("post", "/v1/reports/exports"),
    ("get", "/v1/reports/exports/{id}"),
    ("get", "/v1/live"),
    // The same read as `/v1/live`, streamed (`live::read` filters both).
    ("get", "/v1/live/stream"),
    ("post", "/v1/live/ticket"),
    ("get", "/v1/chat"),
    ("get", "/v1/chat/{conversation}/messages"),
    ("post", "/v1/chat/{conversation}/messages"),
];

#[tokio::test]
async fn the_isolation_test_covers_every_route_of_the_openapi_document() {
    let api = Api::new();
    let (_, doc) = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let covered: BTreeSet<(String, String)> =
        ISOLATED_ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    assert_eq!(documented, covered, "a new route needs its isolation case");
}

#[tokio::test]
async fn a_user_of_one_account_can_neither_see_nor_touch_another_accounts_data() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let b = api.tenant("Beta").await;
    let b_user = api.create_user(&b.admin_token, "bob@beta.example", "agent").await;
    let b_team = api.create_team(&b.admin_token, "Beta Sales").await;
    let (_, _) = api
        .call(
            Method::PUT,
            &format!("/v1/teams/{b_team}/members/{b_user}"),
            Some(&b.admin_token),
            Some(json!({"member": true})),
        )
        .await;
    let (_, token) = api
        .call(Method::POST, "/v1/api-tokens", Some(&b.admin_token), Some(json!({"name": "Beta ERP"})))
        .await;
    let b_token_id = token["id"].as_str().unwrap().to_owned();
    let (status, hook) = api
        .call(
            Method::POST,
            "/v1/webhook-endpoints",
            Some(&b.admin_token),
            Some(json!({"url": "https://crm.beta.example/hook"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hook}");
    let b_hook = hook["id"].as_str().unwrap().to_owned();
    let (status, export) = api
        .call(
            Method::POST,
            "/v1/reports/exports",
            Some(&b.admin_token),
            Some(json!({"from": "2026-01-01", "to": "2026-01-31"})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{export}");
    let b_export = export["id"].as_str().unwrap().to_owned();
    let a_team = a.account.default_team.id.clone();
    let b_default = b.account.default_team.id.clone();
    let (_, channel) = api
        .call(
            Method::POST,
            "/v1/channels",
            Some(&b.admin_token),
            Some(json!({"kind": "sandbox", "name": "B", "agents_can_start": true})),
        )
        .await;
    let b_channel = channel["id"].as_str().unwrap().to_owned();
    let (_, contact) = api
        .call(
            Method::POST,
            "/v1/contacts",
            Some(&b.admin_token),
            Some(json!({"name": "Cliente B", "phone": "+5511912345678"})),
        )
        .await;
    let b_contact = contact["id"].as_str().unwrap().to_owned();
    let (_, tag) =
        api.call(Method::POST, "/v1/tags", Some(&b.admin_token), Some(json!({"name": "Só de B"}))).await;
    let b_tag = tag["id"].as_str().unwrap().to_owned();
    let (status, _) = api
        .call(
            Method::POST,
            "/v1/custom-fields",
            Some(&b.admin_token),
            Some(json!({"key": "so_de_b", "label": "B", "type": "text"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api
        .call_raw(
            Method::POST,
            "/v1/contact-imports",
            &b.admin_token,
            b"nome;telefone\nB;11912345678\n".to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let b_import = serde_json::from_slice::<Value>(&body).unwrap()["id"].as_str().unwrap().to_owned();
    let (_, reply) = api
        .call(
            Method::POST,
            "/v1/quick-replies",
            Some(&b.admin_token),
            Some(json!({"shortcut": "b", "text": "de B", "visibility": "everyone"})),
        )
        .await;
    let b_reply = reply["id"].as_str().unwrap().to_owned();
    let (_, panel) = api
        .call(
            Method::POST,
            "/v1/panels",
            Some(&b.admin_token),
            Some(json!({"name": "B", "columns": [{"name": "B1"}]})),
        )
        .await;
    let b_panel = panel["id"].as_str().unwrap().to_owned();
    let b_column = panel["columns"][0]["id"].as_str().unwrap().to_owned();
    let (status, card) = api
        .call(
            Method::POST,
            &format!("/v1/panels/{b_panel}/cards"),
            Some(&b.admin_token),
            Some(json!({"title": "B", "contact_id": b_contact})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{card}");
    let b_card = card["id"].as_str().unwrap().to_owned();
    let (_, reason) = api
        .call(
            Method::POST,
            "/v1/classification-reasons",
            Some(&b.admin_token),
            Some(json!({"category": "won", "name": "B"})),
        )
        .await;
    let b_reason = reason["id"].as_str().unwrap().to_owned();
    let (status, tagged) = api
        .call(
            Method::PATCH,
            &format!("/v1/contacts/{b_contact}"),
            Some(&b.admin_token),
            Some(json!({"tags": [b_tag]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{tagged}");
    let (_, template) = api
        .call(Method::POST, "/v1/templates", Some(&b.admin_token), Some(json!({"channel_id": b_channel, "name": "oi", "language": "pt_BR", "category": "utility", "body": "Oi {{1}}"})))
        .await;
    let b_template = template["id"].as_str().unwrap().to_owned();
    let (status, started) = api
        .call(Method::POST, "/v1/sessions", Some(&b.admin_token), Some(json!({"contact_id": b_contact, "channel_id": b_channel, "team_id": b_default, "template_id": b_template, "parameters": ["B"]})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let b_session = started["session"]["id"].as_str().unwrap().to_owned();
    let b_message = started["message"]["id"].as_str().unwrap().to_owned();
    let (_, note) = api
        .call(
            Method::POST,
            &format!("/v1/sessions/{b_session}/notes"),
            Some(&b.admin_token),
            Some(json!({"text": "nota de B"})),
        )
        .await;
    let b_note = note["id"].as_str().unwrap().to_owned();
    let b_upload = upload(&api, &b.admin_token, b"B's file").await;
    let (_, wallet) = api
        .call(
            Method::POST,
            "/v1/wallets",
            Some(&b.admin_token),
            Some(json!({"name": "VIP", "kind": "shared", "team_id": b_default, "agents": [b_user]})),
        )
        .await;
    let b_wallet = wallet["id"].as_str().unwrap().to_owned();
    api.call(
        Method::PUT,
        &format!("/v1/wallets/{b_wallet}/contacts/{b_contact}"),
        Some(&b.admin_token),
        None,
    )
    .await;
    let hours = json!({"timezone": "America/Sao_Paulo", "days": {"mon": [{"start": "08:00", "end": "18:00"}]}, "auto_reply": {"enabled": true, "text": "fechado"}});
    api.call(
        Method::PUT,
        &format!("/v1/channels/{b_channel}/business-hours"),
        Some(&b.admin_token),
        Some(hours.clone()),
    )
    .await;
    let keep = json!({"idle_minutes": 30, "inactivity_message": "ainda aí?", "close_minutes": 30, "closing_message": "tchau", "enabled": true});
    api.call(
        Method::PUT,
        &format!("/v1/channels/{b_channel}/keep-alive"),
        Some(&b.admin_token),
        Some(keep.clone()),
    )
    .await;
    let due = (api.clock.now() + chrono::Duration::hours(1)).to_rfc3339();
    let (status, sched) = api
        .call(Method::POST, "/v1/scheduled-messages", Some(&b.admin_token), Some(json!({"contact_id": b_contact, "channel_id": b_channel, "team_id": b_default, "template_id": b_template, "parameters": ["x"], "due_at": due})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sched}");
    let b_sched = sched["id"].as_str().unwrap().to_owned();
    let (status, camp) = api
        .call(Method::POST, "/v1/campaigns", Some(&b.admin_token), Some(json!({"name": "B", "channel_id": b_channel, "team_id": b_default, "template_id": b_template, "parameters": ["{{name}}"], "audience": {"kind": "tags", "tag_ids": [b_tag]}})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{camp}");
    let b_campaign = camp["id"].as_str().unwrap().to_owned();
    let (status, seq) = api
        .call(Method::POST, "/v1/sequences", Some(&b.admin_token), Some(json!({"name": "B", "steps": [{"channel_id": b_channel, "template_id": b_template, "parameters": ["x"], "delay_minutes": 60}]})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seq}");
    let b_sequence = seq["id"].as_str().unwrap().to_owned();
    let (status, enrolled) = api
        .call(
            Method::POST,
            &format!("/v1/sequences/{b_sequence}/enrolments"),
            Some(&b.admin_token),
            Some(json!({"contact_ids": [b_contact]})),
        )
        .await;
    assert_eq!(
        (status, enrolled["enrolled"].as_array().map(Vec::len)),
        (StatusCode::OK, Some(1)),
        "{enrolled}"
    );
    let (status, flow) = api
        .call(Method::POST, "/v1/flows", Some(&b.admin_token), Some(json!({"name": "B", "definition": {"start": "hi", "nodes": [{"id": "hi", "type": "message", "text": "Olá"}]}})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{flow}");
    let b_flow = flow["id"].as_str().unwrap().to_owned();
    let (status, _) =
        api.call(Method::POST, &format!("/v1/flows/{b_flow}/publish"), Some(&b.admin_token), None).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .call(
            Method::PUT,
            &format!("/v1/channels/{b_channel}/flow-triggers"),
            Some(&b.admin_token),
            Some(json!({"keywords": [{"text": "menu", "flow_id": b_flow}]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // B's payment app and one of its payments (written as the payments job leaves one).
    let (status, _) = api
        .call(
            Method::PUT,
            "/v1/payment-settings",
            Some(&b.admin_token),
            Some(json!({"enabled": true, "environment": "sandbox", "api_key": "$aact_b", "webhook_token": "b".repeat(40)})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let b_payment = "01PAYMENTOFBETA0000000000".to_owned();
    let now = api.clock.now();
    let mut payment = atende_core::payments::Payment {
        id: b_payment.clone(),
        account_id: b.account.account.id.clone(),
        session_id: b_session.clone(),
        contact_id: b_contact.clone(),
        channel_id: b_channel.clone(),
        agent_id: b.account.admin.id.clone(),
        amount_cents: 100,
        method: atende_core::payments::Method::Pix,
        installments: 1,
        description: "B".into(),
        due_date: now.date_naive(),
        payer_name: "B".into(),
        payer_document: "52998224725".into(),
        status: atende_core::payments::PaymentStatus::Pending,
        charge_id: Some("pay_b".into()),
        invoice_url: None,
        bank_slip_url: None,
        pix_code: None,
        refunded_cents: 0,
        message_id: None,
        template_id: None,
        error: None,
        charge_attempts: 1,
        creating_until: None,
        history: Vec::new(),
        created_at: now,
        updated_at: now,
        version: 0,
    };
    atende_core::payments::save(&api.ctx.deps, &mut payment).await.unwrap();
    let before = snapshot(&api, &b.admin_token, &b_team).await;
    let before_conversation = conversation_snapshot(&api, &b.admin_token, &b_session).await;

    let attempts: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/v1/webhook-endpoints/{b_hook}"), None),
        (Method::GET, format!("/v1/reports/exports/{b_export}"), None),
        (Method::PATCH, format!("/v1/webhook-endpoints/{b_hook}"), Some(json!({"enabled": false}))),
        (Method::DELETE, format!("/v1/webhook-endpoints/{b_hook}"), None),
        (Method::POST, format!("/v1/webhook-endpoints/{b_hook}/rotate-secret"), None),
        (Method::GET, format!("/v1/webhook-endpoints/{b_hook}/deliveries"), None),
        (
            Method::POST,
            format!("/v1/webhook-endpoints/{b_hook}/replay"),
            Some(json!({"since": "2026-01-01T00:00:00Z"})),
        ),
        (Method::GET, format!("/v1/users/{b_user}"), None),
        (Method::PATCH, format!("/v1/users/{b_user}"), Some(json!({"name": "Hacked", "profile": "admin"}))),
        (Method::DELETE, format!("/v1/users/{b_user}"), None),
        (Method::GET, format!("/v1/teams/{b_team}"), None),
        (Method::PATCH, format!("/v1/teams/{b_team}"), Some(json!({"name": "Hacked", "is_default": true}))),
        (Method::DELETE, format!("/v1/teams/{b_team}"), None),
        (Method::GET, format!("/v1/teams/{b_team}/members"), None),
        (Method::PUT, format!("/v1/teams/{b_team}/members/{b_user}"), Some(json!({"supervisor": true}))),
        (Method::PUT, format!("/v1/teams/{a_team}/members/{b_user}"), Some(json!({"member": true}))),
        (Method::DELETE, format!("/v1/teams/{b_team}/members/{b_user}"), None),
        (Method::DELETE, format!("/v1/api-tokens/{b_token_id}"), None),
        (Method::GET, format!("/v1/channels/{b_channel}"), None),
        (Method::PATCH, format!("/v1/channels/{b_channel}"), Some(json!({"active": false}))),
        (Method::DELETE, format!("/v1/channels/{b_channel}"), None),
        (Method::GET, format!("/v1/contacts/{b_contact}"), None),
        (Method::PATCH, format!("/v1/contacts/{b_contact}"), Some(json!({"name": "Hacked"}))),
        (Method::GET, format!("/v1/tags/{b_tag}"), None),
        (Method::PATCH, format!("/v1/tags/{b_tag}"), Some(json!({"name": "Hacked"}))),
        (Method::DELETE, format!("/v1/tags/{b_tag}"), None),
        (Method::GET, "/v1/custom-fields/so_de_b".into(), None),
        (Method::PATCH, "/v1/custom-fields/so_de_b".into(), Some(json!({"label": "Hacked"}))),
        (Method::DELETE, "/v1/custom-fields/so_de_b".into(), None),
        (Method::POST, "/v1/contacts/unblock".into(), Some(json!({"phone": "+5511912345678"}))),
        (Method::GET, format!("/v1/contact-imports/{b_import}"), None),
        (
            Method::POST,
            format!("/v1/contact-imports/{b_import}/start"),
            Some(json!({"mapping": {"telefone": "phone"}})),
        ),
        (Method::GET, format!("/v1/contact-imports/{b_import}/errors"), None),
        (Method::GET, format!("/v1/contacts/{b_contact}/export"), None),
        (Method::GET, format!("/v1/quick-replies/{b_reply}"), None),
        (
            Method::PUT,
            format!("/v1/quick-replies/{b_reply}"),
            Some(json!({"shortcut": "x", "text": "x", "visibility": "everyone"})),
        ),
        (Method::DELETE, format!("/v1/quick-replies/{b_reply}"), None),
        (Method::POST, format!("/v1/quick-replies/{b_reply}/render"), Some(json!({"session_id": b_session}))),
        (Method::GET, format!("/v1/panels/{b_panel}"), None),
        (Method::GET, format!("/v1/classification-reasons/{b_reason}"), None),
        (Method::GET, format!("/v1/teams/{b_team}/csat"), None),
        (
            Method::PUT,
            format!("/v1/teams/{b_team}/csat"),
            Some(json!({"enabled": true, "scale": "1-5", "question": "x"})),
        ),
        (Method::GET, format!("/v1/channels/{b_channel}/csat"), None),
        (
            Method::PUT,
            format!("/v1/channels/{b_channel}/csat"),
            Some(json!({"enabled": true, "scale": "0-10", "question": "x"})),
        ),
        (Method::GET, format!("/v1/sessions/{b_session}/csat"), None),
        (
            Method::PUT,
            format!("/v1/classification-reasons/{b_reason}"),
            Some(json!({"category": "lost", "name": "x"})),
        ),
        (Method::DELETE, format!("/v1/classification-reasons/{b_reason}"), None),
        (Method::PUT, format!("/v1/sessions/{b_session}/classification"), Some(json!({"category": "won"}))),
        (
            Method::PUT,
            format!("/v1/panels/{b_panel}"),
            Some(json!({"name": "x", "columns": [{"name": "x"}]})),
        ),
        (Method::DELETE, format!("/v1/panels/{b_panel}"), None),
        (
            Method::POST,
            format!("/v1/panels/{b_panel}/cards"),
            Some(json!({"title": "x", "contact_id": b_contact})),
        ),
        (Method::PATCH, format!("/v1/panels/{b_panel}/cards/{b_card}"), Some(json!({"title": "x"}))),
        (Method::DELETE, format!("/v1/panels/{b_panel}/cards/{b_card}"), None),
        (
            Method::POST,
            format!("/v1/panels/{b_panel}/cards/{b_card}/move"),
            Some(json!({"column_id": b_column})),
        ),
        (Method::POST, format!("/v1/contacts/{b_contact}/erasure"), None),
        (Method::GET, format!("/v1/contacts/{b_contact}/erasure"), None),
        (Method::GET, format!("/v1/templates/{b_template}"), None),
        (Method::PUT, format!("/v1/templates/{b_template}"), Some(json!({"body": "Olá {{1}}"}))),
        (Method::POST, format!("/v1/channels/{b_channel}/templates/sync"), None),
        (Method::DELETE, format!("/v1/templates/{b_template}"), None),
        (Method::GET, format!("/v1/sessions/{b_session}"), None),
        (Method::GET, format!("/v1/sessions/{b_session}/messages"), None),
        (
            Method::POST,
            format!("/v1/sessions/{b_session}/messages"),
            Some(json!({"type": "text", "text": "hi"})),
        ),
        (Method::POST, format!("/v1/sessions/{b_session}/assume"), None),
        (Method::POST, format!("/v1/sessions/{b_session}/return"), None),
        (Method::POST, format!("/v1/sessions/{b_session}/complete"), Some(json!({}))),
        (
            Method::POST,
            format!("/v1/sessions/{b_session}/restart"),
            Some(json!({"template_id": b_template, "parameters": ["x"]})),
        ),
        (Method::POST, format!("/v1/sessions/{b_session}/transfer"), Some(json!({"team_id": a_team}))),
        (Method::PUT, format!("/v1/sessions/{b_session}/tags"), Some(json!({"tags": []}))),
        (Method::GET, format!("/v1/sessions/{b_session}/notes"), None),
        (Method::POST, format!("/v1/sessions/{b_session}/notes"), Some(json!({"text": "x"}))),
        (Method::PATCH, format!("/v1/sessions/{b_session}/notes/{b_note}"), Some(json!({"text": "x"}))),
        (Method::DELETE, format!("/v1/sessions/{b_session}/notes/{b_note}"), None),
        (Method::POST, format!("/v1/messages/{b_message}/cancel"), None),
        (Method::GET, format!("/v1/messages/{b_message}/media"), None),
        (Method::GET, format!("/v1/chat/team:{b_team}/messages"), None),
        (Method::POST, format!("/v1/chat/team:{b_team}/messages"), Some(json!({"text": "x"}))),
        (Method::GET, format!("/v1/chat/user:{b_user}/messages"), None),
        (Method::POST, format!("/v1/chat/user:{b_user}/messages"), Some(json!({"text": "x"}))),
        (
            Method::POST,
            "/v1/contact-imports/from-upload".to_owned(),
            Some(json!({"blob_key": format!("uploads/{}/x", b.account.account.id)})),
        ),
        (Method::GET, format!("/v1/wallets/{b_wallet}"), None),
        (
            Method::PUT,
            format!("/v1/wallets/{b_wallet}"),
            Some(json!({"name": "x", "kind": "shared", "team_id": a_team, "agents": [a.account.admin.id]})),
        ),
        (Method::DELETE, format!("/v1/wallets/{b_wallet}"), None),
        (Method::PUT, format!("/v1/wallets/{b_wallet}/contacts/{b_contact}"), None),
        (Method::DELETE, format!("/v1/wallets/{b_wallet}/contacts/{b_contact}"), None),
        (Method::GET, format!("/v1/channels/{b_channel}/business-hours"), None),
        (Method::PUT, format!("/v1/channels/{b_channel}/business-hours"), Some(hours.clone())),
        (Method::GET, format!("/v1/channels/{b_channel}/keep-alive"), None),
        (Method::PUT, format!("/v1/channels/{b_channel}/keep-alive"), Some(keep.clone())),
        (Method::GET, format!("/v1/business-hours/status?channel_id={b_channel}"), None),
        (Method::GET, format!("/v1/scheduled-messages/{b_sched}"), None),
        (Method::POST, format!("/v1/scheduled-messages/{b_sched}/cancel"), None),
        (Method::POST, format!("/v1/scheduled-messages/{b_sched}/reschedule"), Some(json!({"due_at": due}))),
        (
            Method::POST,
            "/v1/scheduled-messages".into(),
            Some(
                json!({"contact_id": b_contact, "channel_id": b_channel, "team_id": a_team, "template_id": b_template, "due_at": due}),
            ),
        ),
        (Method::GET, format!("/v1/campaigns/{b_campaign}"), None),
        (Method::PATCH, format!("/v1/campaigns/{b_campaign}"), Some(json!({"name": "x"}))),
        (Method::DELETE, format!("/v1/campaigns/{b_campaign}"), None),
        (Method::POST, format!("/v1/campaigns/{b_campaign}/start"), None),
        (Method::POST, format!("/v1/campaigns/{b_campaign}/pause"), None),
        (Method::POST, format!("/v1/campaigns/{b_campaign}/resume"), None),
        (Method::POST, format!("/v1/campaigns/{b_campaign}/cancel"), None),
        (Method::GET, format!("/v1/campaigns/{b_campaign}/report"), None),
        (Method::GET, format!("/v1/campaigns/{b_campaign}/recipients"), None),
        (Method::POST, format!("/v1/campaigns/{b_campaign}/export"), None),
        (Method::GET, format!("/v1/campaigns/{b_campaign}/estimate"), None),
        (Method::GET, format!("/v1/sequences/{b_sequence}"), None),
        (Method::PATCH, format!("/v1/sequences/{b_sequence}"), Some(json!({"enabled": false}))),
        (Method::DELETE, format!("/v1/sequences/{b_sequence}"), None),
        (Method::GET, format!("/v1/sequences/{b_sequence}/enrolments"), None),
        (
            Method::POST,
            format!("/v1/sequences/{b_sequence}/enrolments"),
            Some(json!({"contact_ids": [b_contact]})),
        ),
        (Method::DELETE, format!("/v1/sequences/{b_sequence}/enrolments/{b_contact}"), None),
        (Method::DELETE, format!("/v1/contacts/{b_contact}/marketing-opt-out"), None),
        (Method::GET, format!("/v1/flows/{b_flow}"), None),
        (Method::PATCH, format!("/v1/flows/{b_flow}"), Some(json!({"name": "x"}))),
        (Method::DELETE, format!("/v1/flows/{b_flow}"), None),
        (Method::POST, format!("/v1/flows/{b_flow}/publish"), None),
        (Method::GET, format!("/v1/flows/{b_flow}/versions/1"), None),
        (Method::GET, format!("/v1/channels/{b_channel}/flow-triggers"), None),
        (Method::PUT, format!("/v1/channels/{b_channel}/flow-triggers"), Some(json!({}))),
        (Method::POST, format!("/v1/sessions/{b_session}/flow"), Some(json!({"flow_id": b_flow}))),
        (Method::POST, format!("/v1/sessions/{b_session}/flow/stop"), None),
        (Method::GET, format!("/v1/sessions/{b_session}/flow-runs"), None),
        (
            Method::POST,
            format!("/v1/sessions/{b_session}/payments"),
            Some(json!({"amount_cents": 100, "method": "pix", "description": "x", "due_date": "2099-01-01",
                "payer_name": "A", "payer_document": "529.982.247-25"})),
        ),
        (Method::GET, format!("/v1/sessions/{b_session}/payments"), None),
        (Method::GET, format!("/v1/contacts/{b_contact}/payments"), None),
        (Method::GET, format!("/v1/payments/{b_payment}"), None),
        (Method::POST, format!("/v1/payments/{b_payment}/cancel"), None),
        (Method::POST, format!("/v1/payments/{b_payment}/refund"), Some(json!({}))),
        // A's own routes pointed at B's things.
        (
            Method::POST,
            "/v1/campaigns".into(),
            Some(
                json!({"name": "x", "channel_id": b_channel, "team_id": a_team, "template_id": b_template, "audience": {"kind": "contacts", "contact_ids": [b_contact]}}),
            ),
        ),
        (
            Method::POST,
            "/v1/sequences".into(),
            Some(
                json!({"name": "x", "steps": [{"channel_id": b_channel, "template_id": b_template, "delay_minutes": 1}]}),
            ),
        ),
        (
            Method::POST,
            "/v1/sessions".into(),
            Some(
                json!({"contact_id": b_contact, "channel_id": b_channel, "team_id": a_team, "template_id": b_template}),
            ),
        ),
        (
            Method::POST,
            "/v1/templates".into(),
            Some(
                json!({"channel_id": b_channel, "name": "x", "language": "pt_BR", "category": "utility", "body": "x"}),
            ),
        ),
    ];
    for (method, path, body) in attempts {
        let (status, response) = api.call(method.clone(), &path, Some(&a.admin_token), body).await;
        assert_error(status, &response, StatusCode::NOT_FOUND);
    }
    // Beta's internal chat holds something; Acme's listings must not show it.
    let (status, _) = api
        .call(
            Method::POST,
            "/v1/chat/everyone/messages",
            Some(&b.admin_token),
            Some(json!({"text": "só da Beta"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for path in [
        "/v1/users?include_deleted=true",
        "/v1/teams",
        "/v1/api-tokens",
        "/v1/me",
        "/v1/account",
        "/v1/channels",
        "/v1/contacts",
        "/v1/templates",
        "/v1/sessions?tab=pending",
        "/v1/sessions?tab=mine",
        "/v1/sessions?tab=others",
        "/v1/sessions?tab=completed",
        "/v1/sessions/counts",
        "/v1/wallets",
        "/v1/scheduled-messages",
        "/v1/business-hours/status",
        "/v1/tags",
        &format!("/v1/contacts?tag={b_tag}"),
        "/v1/contacts?q=cliente",
        "/v1/contacts?phone=5511912345678",
        "/v1/contacts?field=so_de_b&value=x",
        "/v1/custom-fields",
        "/v1/contact-imports",
        "/v1/quick-replies",
        "/v1/panels",
        "/v1/classification-reasons",
        "/v1/csat/results",
        "/v1/campaigns?archived=true",
        "/v1/campaign-settings",
        "/v1/sequences",
        "/v1/flows",
        "/v1/payments",
        "/v1/payment-settings",
        "/v1/audit",
        "/v1/webhook-endpoints",
        "/v1/webhook-event-types",
        "/v1/reports/waiting",
        "/v1/live?after=0",
        "/v1/chat",
        "/v1/chat/everyone/messages",
    ] {
        let (status, listed) = api.call(Method::GET, path, Some(&a.admin_token), None).await;
        assert_eq!(status, StatusCode::OK);
        let text = listed.to_string();
        for foreign in [
            &b_user,
            &b_team,
            &b_token_id,
            &b.account.account.id,
            &b.account.admin.id,
            &b_channel,
            &b_contact,
            &b_template,
            &b_session,
            &b_tag,
            &b_import,
            &b_reply,
            &b_panel,
            &b_card,
            &b_reason,
            &b_campaign,
            &b_sequence,
            &b_flow,
            &b_hook,
            &b_export,
        ] {
            assert!(!text.contains(foreign.as_str()), "{path} leaks {foreign}");
        }
    }
    // A's report groups never name B's teams, agents or channels.
    let today = api.clock.now().date_naive();
    for group in ["team", "agent", "channel"] {
        let path =
            format!("/v1/reports/summary?from={}&to={}&group_by={group}", today.pred_opt().unwrap(), today);
        let (status, report) = api.call(Method::GET, &path, Some(&a.admin_token), None).await;
        assert_eq!(status, StatusCode::OK, "{report}");
        for foreign in [&b_team, &b_user, &b_channel, &b.account.admin.id] {
            assert!(!report.to_string().contains(foreign.as_str()), "{path} leaks {foreign}");
        }
    }
    // What A creates lands in A, never in B.
    api.create_user(&a.admin_token, "new@acme.example", "agent").await;
    api.create_team(&a.admin_token, "Acme Team").await;
    api.call(Method::POST, "/v1/api-tokens", Some(&a.admin_token), Some(json!({"name": "A"}))).await;
    api.call(Method::PATCH, "/v1/me", Some(&a.admin_token), Some(json!({"name": "Renamed"}))).await;
    api.call(Method::PATCH, "/v1/account", Some(&a.admin_token), Some(json!({"send_delay_seconds": 5})))
        .await;
    api.call(
        Method::POST,
        "/v1/channels",
        Some(&a.admin_token),
        Some(json!({"kind": "sandbox", "name": "A"})),
    )
    .await;
    api.call(Method::POST, "/v1/contacts", Some(&a.admin_token), Some(json!({"phone": "+5511912345678"})))
        .await;
    // B's tag on A's contact is no tag at all.
    let (status, body) = api
        .call(
            Method::POST,
            "/v1/contacts",
            Some(&a.admin_token),
            Some(json!({"phone": "+5511912340000", "tags": [b_tag]})),
        )
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    // B's upload, used by A, is not found either.
    let (status, body) = api.call(Method::GET, "/v1/sessions/counts", Some(&a.admin_token), None).await;
    assert_eq!((status, body["pending"].as_u64()), (StatusCode::OK, Some(0)));
    let a_upload = upload(&api, &a.admin_token, b"A's file").await;
    assert!(a_upload.starts_with(&format!("uploads/{}/", a.account.account.id)));
    assert!(b_upload.starts_with(&format!("uploads/{}/", b.account.account.id)));
    assert_eq!(snapshot(&api, &b.admin_token, &b_team).await, before, "B's data is untouched");
    assert_eq!(conversation_snapshot(&api, &b.admin_token, &b_session).await, before_conversation);
}

async fn upload(api: &Api, token: &str, bytes: &[u8]) -> String {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/uploads")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "image/png")
        .body(Body::from(bytes.to_vec()))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: Value =
        serde_json::from_slice(&axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap())
            .unwrap();
    body["blob_key"].as_str().unwrap().to_owned()
}

async fn conversation_snapshot(api: &Api, token: &str, session: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/v1/account".to_owned(),
        "/v1/channels".into(),
        "/v1/contacts".into(),
        "/v1/templates".into(),
        format!("/v1/sessions/{session}"),
        format!("/v1/sessions/{session}/messages"),
        format!("/v1/sessions/{session}/notes"),
        "/v1/wallets".into(),
        "/v1/scheduled-messages".into(),
    ] {
        let (status, body) = api.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        out.push(body);
    }
    out
}

async fn snapshot(api: &Api, token: &str, team: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/v1/users?include_deleted=true".to_owned(),
        "/v1/teams".into(),
        "/v1/api-tokens".into(),
        format!("/v1/teams/{team}/members"),
        "/v1/me".into(),
    ] {
        let (status, body) = api.call(Method::GET, &path, Some(token), None).await;
        assert_eq!(status, StatusCode::OK);
        out.push(body);
    }
    out
}

fn assert_opaque_unavailable(status: StatusCode, body: &Value) {
    assert!(
        status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::INTERNAL_SERVER_ERROR,
        "{status} {body}"
    );
    assert_error(status, body, status);
    let text = body.to_string();
    assert!(!text.contains(atende_testkit::faults::BACKEND_TEXT) && !text.contains("10.1.2.3"), "{text}");
}

#[tokio::test]
async fn a_failing_blob_store_answers_503_with_an_opaque_body() {
    let api = Api::with_deps(|deps| deps.blob = Arc::new(atende_testkit::faults::DownBlob));
    let a = api.tenant("Acme").await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/v1/uploads")
        .header("authorization", format!("Bearer {}", a.admin_token))
        .header("content-type", "image/png")
        .body(Body::from(b"png bytes".to_vec()))
        .unwrap();
    let response = api.router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let body: Value =
        serde_json::from_slice(&axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap())
            .unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_opaque_unavailable(status, &body);
}

#[tokio::test]
async fn a_failing_queue_answers_503_with_an_opaque_body_and_the_message_says_why_it_failed() {
    let api = Api::with_deps(|deps| deps.queue = Arc::new(atende_testkit::faults::DownQueue));
    let a = api.tenant("Acme").await;
    let (status, body) = start_on_sandbox(&api, &a).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_opaque_unavailable(status, &body);
    let token = Some(a.admin_token.as_str());
    let (_, mine) = api.call(Method::GET, "/v1/sessions?tab=mine", token, None).await;
    let session = mine["items"][0]["id"].as_str().unwrap();
    let (_, messages) = api.call(Method::GET, &format!("/v1/sessions/{session}/messages"), token, None).await;
    let message = &messages["items"][0];
    assert_eq!(message["status"], "failed", "{message}");
    assert!(message["error"]["reason"].as_str().unwrap().contains("could not be queued"), "{message}");
}

/// A sandbox channel, a contact and an approved template of `a`, then an active start:
/// the answer of `POST /v1/sessions`.
async fn start_on_sandbox(api: &Api, a: &Tenant) -> (StatusCode, Value) {
    let token = Some(a.admin_token.as_str());
    let (_, channel) = api
        .call(
            Method::POST,
            "/v1/channels",
            token,
            Some(json!({"kind": "sandbox", "name": "A", "agents_can_start": true})),
        )
        .await;
    let (_, contact) =
        api.call(Method::POST, "/v1/contacts", token, Some(json!({"phone": "+5511912345678"}))).await;
    let (_, template) = api
        .call(Method::POST, "/v1/templates", token, Some(json!({"channel_id": channel["id"], "name": "oi", "language": "pt_BR", "category": "utility", "body": "Oi {{1}}"})))
        .await;
    api.call(
        Method::POST,
        "/v1/sessions",
        token,
        Some(json!({"contact_id": contact["id"], "channel_id": channel["id"], "team_id": a.account.default_team.id, "template_id": template["id"], "parameters": ["A"]})),
    )
    .await
}

#[tokio::test]
async fn a_cursor_no_listing_returned_is_a_400_naming_the_cursor() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    for path in [
        "/v1/users?cursor=bm90LWEtY3Vyc29y",
        "/v1/contacts?cursor=%21%21",
        "/v1/sessions?tab=pending&cursor=x",
    ] {
        let (status, body) = api.call(Method::GET, path, Some(&a.admin_token), None).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"], "invalid_cursor", "{path}: {body}");
    }
}

const INTERNAL_FIELDS: [&str; 7] = [
    "attempts",
    "claimed_at",
    "not_before",
    "routing_seq",
    "routing_started_at",
    "auto_reply_for",
    "last_inbound_provider_id",
];

/// Every object key anywhere in `value` that names a stored record's bookkeeping.
fn internal_keys(value: &Value) -> Vec<String> {
    match value {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                let mut found = internal_keys(v);
                if INTERNAL_FIELDS.contains(&k.as_str()) {
                    found.push(k.clone());
                }
                found
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(internal_keys).collect(),
        _ => Vec::new(),
    }
}

#[tokio::test]
async fn no_response_or_schema_carries_a_records_bookkeeping() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let (status, started) = start_on_sandbox(&api, &a).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let token = Some(a.admin_token.as_str());
    let session = started["session"]["id"].as_str().unwrap();
    let mut bodies = vec![started.clone()];
    for path in [
        format!("/v1/sessions/{session}"),
        format!("/v1/sessions/{session}/messages"),
        "/v1/sessions?tab=mine".to_owned(),
        "/v1/scheduled-messages".into(),
    ] {
        let (status, body) = api.call(Method::GET, &path, token, None).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        bodies.push(body);
    }
    assert!(
        started["message"]["cancellable_until"].is_string(),
        "a queued message says until when it can be cancelled"
    );
    for body in &bodies {
        assert_eq!(internal_keys(body), Vec::<String>::new(), "{body}");
    }
    let (_, document) = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    assert_eq!(internal_keys(&document["components"]["schemas"]), Vec::<String>::new());
}

#[tokio::test]
async fn every_operation_declares_the_errors_it_can_answer() {
    let api = Api::new();
    let (_, document) = api.call(Method::GET, "/v1/openapi.json", None, None).await;
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let mut expected = vec!["500", "503"];
            if operation.get("security").is_some() {
                expected.push("401");
            }
            if operation.get("requestBody").is_some() {
                expected.extend(["400", "413", "415"]);
            }
            for code in expected {
                assert!(responses.contains_key(code), "{method} {path} does not declare {code}");
            }
            checked += 1;
        }
    }
    assert!(checked > 70, "{checked} operations");
}

#[tokio::test]
async fn schema_valid_requests_are_read_as_the_schema_reads_them() {
    let api = Api::new();
    let t = api.tenant("Acme").await;
    let token = Some(t.admin_token.as_str());
    // An empty cursor is the first page.
    let (status, first) = api.call(Method::GET, "/v1/users", token, None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let (status, empty) = api.call(Method::GET, "/v1/users?cursor=", token, None).await;
    assert_eq!((status, &empty), (StatusCode::OK, &first));
    // A new channel has its keep-alive: the disabled default.
    let (_, channel) =
        api.call(Method::POST, "/v1/channels", token, Some(json!({"kind": "sandbox", "name": "A"}))).await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let (status, keep) =
        api.call(Method::GET, &format!("/v1/channels/{channel}/keep-alive"), token, None).await;
    assert_eq!(status, StatusCode::OK, "{keep}");
    assert_eq!(keep["enabled"], false);
    assert!(keep["idle_minutes"].as_u64().is_some_and(|m| m >= 1), "{keep}");
    // 5.0 is the integer 5, as JSON Schema counts it.
    let (status, saved) = api
        .call(
            Method::PUT,
            &format!("/v1/channels/{channel}/keep-alive"),
            token,
            Some(json!({"idle_minutes": 5.0, "inactivity_message": "Oi?", "close_minutes": 10,
                "closing_message": "Tchau", "enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["idle_minutes"], 5);
    let (status, body) = api
        .call(
            Method::PUT,
            &format!("/v1/channels/{channel}/keep-alive"),
            token,
            Some(json!({"idle_minutes": 5.5, "inactivity_message": "Oi?", "close_minutes": 10,
                "closing_message": "Tchau"})),
        )
        .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST);
    // A removed channel is gone from the API, as from the list.
    let (status, _) = api.call(Method::DELETE, &format!("/v1/channels/{channel}"), token, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (method, path) in [
        (Method::GET, format!("/v1/channels/{channel}")),
        (Method::PATCH, format!("/v1/channels/{channel}")),
        (Method::GET, format!("/v1/channels/{channel}/keep-alive")),
    ] {
        let body = (method == Method::PATCH).then(|| json!({"name": "B"}));
        let (status, response) = api.call(method, &path, token, body).await;
        assert_error(status, &response, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn tags_rename_everywhere_at_once_filter_contacts_and_a_deleted_one_leaves_every_contact() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = Some(a.admin_token.as_str());
    let tag = |name: &str, colour: &str| json!({"name": name, "colour": colour});
    let (status, vip) = api.call(Method::POST, "/v1/tags", admin, Some(tag("VIP", "#1E88E5"))).await;
    assert_eq!(status, StatusCode::CREATED, "{vip}");
    assert_eq!(vip["colour"], "#1e88e5");
    let vip = vip["id"].as_str().unwrap().to_owned();
    let (_, lead) = api.call(Method::POST, "/v1/tags", admin, Some(json!({"name": "Lead"}))).await;
    let lead = lead["id"].as_str().unwrap().to_owned();
    let (status, body) = api.call(Method::POST, "/v1/tags", admin, Some(tag(" vip ", "#000000"))).await;
    assert_error(status, &body, StatusCode::CONFLICT);
    let (status, body) = api.call(Method::POST, "/v1/tags", admin, Some(tag("Novo", "azul"))).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("colour"), "{body}");
    api.create_user(&a.admin_token, "agent@acme.example", "agent").await;
    let agent = api.login("agent@acme.example", "password123").await;
    let (status, body) =
        api.call(Method::POST, "/v1/tags", Some(&agent), Some(tag("Agente", "#000000"))).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
    let (status, listed) = api.call(Method::GET, "/v1/tags", Some(&agent), None).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> =
        listed["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Lead", "VIP"], "agents see the tags, by name");

    // Contacts carry tag ids, checked on every write.
    let contact = |phone: &str, tags: Vec<&str>| json!({"phone": phone, "tags": tags});
    let (status, body) = api
        .call(Method::POST, "/v1/contacts", Some(&agent), Some(contact("+5511987650001", vec!["nope"])))
        .await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body["message"].as_str().unwrap().contains("nope"), "names the unknown tag: {body}");
    let (_, ana) = api
        .call(Method::POST, "/v1/contacts", Some(&agent), Some(contact("+5511987650001", vec![&vip, &vip])))
        .await;
    assert_eq!(ana["tags"], json!([vip]), "each tag once");
    let (_, bia) = api
        .call(Method::POST, "/v1/contacts", Some(&agent), Some(contact("+5511987650002", vec![&vip, &lead])))
        .await;
    let (ana, bia) = (ana["id"].as_str().unwrap().to_owned(), bia["id"].as_str().unwrap().to_owned());
    let tagged = |tag: String| {
        let api = &api;
        let token = a.admin_token.clone();
        async move {
            let (status, page) =
                api.call(Method::GET, &format!("/v1/contacts?tag={tag}"), Some(&token), None).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            let mut ids: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        }
    };
    let mut both = vec![ana.clone(), bia.clone()];
    both.sort();
    assert_eq!(tagged(vip.clone()).await, both);
    assert_eq!(tagged(lead.clone()).await, vec![bia.clone()]);

    // A rename is one write: every contact shows the new name through the tag's id.
    let (status, renamed) = api
        .call(Method::PATCH, &format!("/v1/tags/{vip}"), admin, Some(json!({"name": "Cliente VIP"})))
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let (_, got) = api.call(Method::GET, &format!("/v1/tags/{vip}"), Some(&agent), None).await;
    assert_eq!(got["name"], "Cliente VIP");
    let (_, again) = api.call(Method::POST, "/v1/tags", admin, Some(tag("vip", "#000000"))).await;
    assert_eq!(again["name"], "vip", "the old name is free again");

    // Untagging updates the filter; deleting a tag takes it off every contact.
    api.call(Method::PATCH, &format!("/v1/contacts/{ana}"), Some(&agent), Some(json!({"tags": []}))).await;
    assert_eq!(tagged(vip.clone()).await, vec![bia.clone()]);
    let (status, _) = api.call(Method::DELETE, &format!("/v1/tags/{lead}"), Some(&agent), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = api.call(Method::DELETE, &format!("/v1/tags/{lead}"), admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, b) = api.call(Method::GET, &format!("/v1/contacts/{bia}"), admin, None).await;
    assert_eq!(b["tags"], json!([vip]));
    assert!(tagged(lead.clone()).await.is_empty());
    let (status, body) = api.call(Method::GET, &format!("/v1/tags/{lead}"), admin, None).await;
    assert_error(status, &body, StatusCode::NOT_FOUND);

    // Sessions carry tags too, and lose a deleted one.
    let (_, channel) = api
        .call(
            Method::POST,
            "/v1/channels",
            admin,
            Some(json!({"kind": "sandbox", "name": "S", "agents_can_start": true})),
        )
        .await;
    let channel = channel["id"].as_str().unwrap().to_owned();
    let (_, template) = api
        .call(Method::POST, "/v1/templates", admin, Some(json!({"channel_id": channel, "name": "oi", "language": "pt_BR", "category": "utility", "body": "Oi {{1}}"})))
        .await;
    let team = a.account.default_team.id.clone();
    let (status, started) = api
        .call(Method::POST, "/v1/sessions", admin, Some(json!({"contact_id": bia, "channel_id": channel, "team_id": team, "template_id": template["id"], "parameters": ["Bia"]})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let session = started["session"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{session}/tags");
    let (status, body) = api.call(Method::PUT, &path, admin, Some(json!({"tags": ["nope"]}))).await;
    assert_error(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, temp) = api.call(Method::POST, "/v1/tags", admin, Some(json!({"name": "Urgente"}))).await;
    let temp = temp["id"].as_str().unwrap().to_owned();
    let (status, tagged_session) =
        api.call(Method::PUT, &path, admin, Some(json!({"tags": [vip, temp]}))).await;
    assert_eq!(status, StatusCode::OK, "{tagged_session}");
    assert_eq!(tagged_session["tags"], json!([vip, temp]));
    let (_, mine) = api.call(Method::GET, &format!("/v1/sessions?tab=mine&tag={temp}"), admin, None).await;
    assert_eq!(mine["items"][0]["id"], session.as_str(), "the session list filters by tag");
    let (_, none) = api.call(Method::GET, &format!("/v1/sessions?tab=mine&tag={lead}"), admin, None).await;
    assert_eq!(none["items"], json!([]));
    api.call(Method::DELETE, &format!("/v1/tags/{temp}"), admin, None).await;
    let (_, s) = api.call(Method::GET, &format!("/v1/sessions/{session}"), admin, None).await;
    assert_eq!(s["tags"], json!([vip]), "the deleted tag is off the session");
}

#[path = "api/crm.rs"]
mod crm;

/// One request as a client at `source` would send it: status, headers, body.
async fn send_from(
    api: &Api,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
    source: Option<[u8; 4]>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut request = match body {
        Some(b) => request.header("content-type", "application/json").body(Body::from(b.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap();
    if let Some(ip) = source {
        request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((ip, 40000))));
    }
    let response = api.router.clone().oneshot(request).await.unwrap();
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (status, headers, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn header(headers: &axum::http::HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.parse().ok()
}

/// `count` requests of `GET /v1/me` with `token`, all at once: (allowed, refused).
async fn hammer(api: &Api, token: &str, count: usize) -> (usize, usize) {
    let calls = (0..count).map(|_| send_from(api, Method::GET, "/v1/me", Some(token), None, None));
    let mut counts = (0, 0);
    for (status, headers, body) in futures::future::join_all(calls).await {
        match status {
            StatusCode::OK => counts.0 += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"], "rate_limited", "{body}");
                assert!(header(&headers, "retry-after").is_some_and(|s| s >= 1), "{headers:?}");
                assert_eq!(header(&headers, "ratelimit-remaining"), Some(0));
                counts.1 += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_requests_at_once_from_one_account_get_429s_with_retry_after_while_another_account_is_unaffected()
 {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let b = api.tenant("Beta").await;
    // The clock stands still: exactly the burst passes.
    let burst = atende_core::limits::ACCOUNT_BURST as usize;
    assert_eq!(hammer(&api, &a.admin_token, 1_000).await, (burst, 1_000 - burst));
    let (status, headers, _) = send_from(&api, Method::GET, "/v1/me", Some(&a.admin_token), None, None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        header(&headers, "retry-after"),
        Some(1),
        "a token grows back in 20 ms: one second, rounded up"
    );
    assert_eq!(header(&headers, "ratelimit-limit"), Some(burst as u64));
    // Another account has its own bucket.
    let (status, headers, _) = send_from(&api, Method::GET, "/v1/me", Some(&b.admin_token), None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "ratelimit-remaining"), Some(burst as u64 - 1));
    assert_eq!(hammer(&api, &b.admin_token, 100).await, (100, 0));
    // A second later, a second's worth (3,000 a minute) passes again.
    api.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(hammer(&api, &a.admin_token, 100).await, (50, 50));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_api_token_spends_its_own_bucket_first_and_its_refusals_leave_the_accounts_alone() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let (_, created) =
        api.call(Method::POST, "/v1/api-tokens", Some(&a.admin_token), Some(json!({"name": "ERP"}))).await;
    let token = created["token"].as_str().unwrap().to_owned();
    let per_token = atende_core::limits::TOKEN_BURST as usize;
    assert_eq!(hammer(&api, &token, 300).await, (per_token, 300 - per_token));
    // The account spent what the token passed (and the call above), not its refusals.
    let left = atende_core::limits::ACCOUNT_BURST as usize - per_token - 1;
    assert_eq!(hammer(&api, &a.admin_token, left + 10).await, (left, 10));
}

async fn attempt(
    api: &Api,
    email: &str,
    password: &str,
    source: [u8; 4],
) -> (StatusCode, Option<u64>, Value) {
    let body = json!({"email": email, "password": password});
    let (status, headers, body) =
        send_from(api, Method::POST, "/v1/auth/login", None, Some(body), Some(source)).await;
    (status, header(&headers, "retry-after"), body)
}

/// Wrong passwords for `email` until `failures` were counted, waiting out each slowdown on
/// the clock: the answers in order.
async fn fail_logins(
    api: &Api,
    email: &str,
    failures: usize,
    source: [u8; 4],
) -> Vec<(StatusCode, Option<u64>)> {
    let mut answers = Vec::new();
    let mut counted = 0;
    while counted < failures {
        let (status, wait, body) = attempt(api, email, "not the password", source).await;
        answers.push((status, wait));
        match status {
            StatusCode::UNAUTHORIZED => counted += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["error"], "too_many_attempts", "{body}");
                api.clock.advance(chrono::Duration::seconds(wait.unwrap() as i64));
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    answers
}

#[tokio::test]
async fn twenty_wrong_passwords_slow_the_next_attempt_and_the_right_password_works_after_the_lock_expires() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let agent = api.create_user(&a.admin_token, "ana@acme.example", "agent").await;
    let office = [203, 0, 113, 9];
    let answers = fail_logins(&api, "ana@acme.example", 20, office).await;
    let unauthorized = StatusCode::UNAUTHORIZED;
    assert!(answers[..5].iter().all(|(s, _)| *s == unauthorized), "five at full speed: {answers:?}");
    // Then each next attempt waits twice as long as the one before: 1 s, 2 s, 4 s…
    let waits: Vec<u64> = answers.iter().filter_map(|(_, w)| *w).collect();
    assert_eq!(&waits[..4], &[1, 2, 4, 8], "{answers:?}");
    assert!(waits.windows(2).all(|w| w[1] >= w[0]) && *waits.last().unwrap() <= 300);
    // The twentieth locked the e-mail for 15 minutes: even the right password waits.
    let (status, wait, _) = attempt(&api, "ana@acme.example", "password123", office).await;
    assert_eq!((status, wait), (StatusCode::TOO_MANY_REQUESTS, Some(900)));
    api.clock.advance(chrono::Duration::seconds(899));
    let (status, _, _) = attempt(&api, "ana@acme.example", "password123", office).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    api.clock.advance(chrono::Duration::seconds(1));
    let (status, _, body) = attempt(&api, "ana@acme.example", "password123", office).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The success cleared the e-mail's count: a typo now is a plain 401.
    assert_eq!(attempt(&api, "ana@acme.example", "typo", office).await.0, unauthorized);
    // The lock is in the account's audit log, with the address it came from.
    let (_, log) = api.call(Method::GET, "/v1/audit?action=login.locked", Some(&a.admin_token), None).await;
    let entry = &log["items"][0];
    assert_eq!(entry["target_id"], agent.as_str());
    assert_eq!(entry["actor_id"], Value::Null, "the system locked it");
    assert_eq!(entry["source"], "203.0.113.9");
}

#[tokio::test]
async fn an_unknown_email_is_throttled_exactly_like_a_known_one() {
    // The same story on two installations (their clocks move the same way): once for a
    // user's e-mail, once for an e-mail of nobody.
    let mut stories = Vec::new();
    for email in ["ana@acme.example", "nobody@acme.example"] {
        let api = Api::new();
        let a = api.tenant("Acme").await;
        api.create_user(&a.admin_token, "ana@acme.example", "agent").await;
        let answers = fail_logins(&api, email, 20, [198, 51, 100, 1]).await;
        let locked = attempt(&api, email, "x", [198, 51, 100, 1]).await;
        stories.push((answers, locked));
    }
    assert_eq!(stories[0], stories[1]);
    assert_eq!(stories[0].1.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn one_address_guessing_at_many_emails_is_slowed_while_other_addresses_log_in() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    api.create_user(&a.admin_token, "ana@acme.example", "agent").await;
    let attacker = [192, 0, 2, 66];
    for i in 0..20 {
        let (status, _, _) = attempt(&api, &format!("guess{i}@acme.example"), "x", attacker).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Twenty failures from one address: its next attempt waits, whatever the e-mail.
    let (status, wait, _) = attempt(&api, "ana@acme.example", "password123", attacker).await;
    assert_eq!((status, wait), (StatusCode::TOO_MANY_REQUESTS, Some(1)));
    let (status, _, _) = attempt(&api, "ana@acme.example", "password123", [198, 51, 100, 7]).await;
    assert_eq!(status, StatusCode::OK, "another address is not slowed");
}

#[tokio::test]
async fn admin_actions_are_in_the_audit_log_with_who_what_when_and_from_where_and_only_admins_read_it() {
    let api = Api::new();
    let a = api.tenant("Acme").await;
    let admin = a.account.admin.id.clone();
    let from = Some([203, 0, 113, 20]);
    let user =
        json!({"email": "bia@acme.example", "password": "password123", "name": "Bia", "profile": "agent"});
    let (_, _, created) =
        send_from(&api, Method::POST, "/v1/users", Some(&a.admin_token), Some(user), from).await;
    let bia = created["id"].as_str().unwrap().to_owned();
    api.clock.advance(chrono::Duration::seconds(1));
    let (_, _, team) = send_from(
        &api,
        Method::POST,
        "/v1/teams",
        Some(&a.admin_token),
        Some(json!({"name": "Vendas"})),
        from,
    )
    .await;
    api.clock.advance(chrono::Duration::seconds(1));
    let (_, _, token) = send_from(
        &api,
        Method::POST,
        "/v1/api-tokens",
        Some(&a.admin_token),
        Some(json!({"name": "ERP"})),
        from,
    )
    .await;
    api.clock.advance(chrono::Duration::seconds(1));
    let path = format!("/v1/api-tokens/{}", token["id"].as_str().unwrap());
    send_from(&api, Method::DELETE, &path, Some(&a.admin_token), None, from).await;
    let (status, log) = api.call(Method::GET, "/v1/audit", Some(&a.admin_token), None).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    let actions: Vec<&str> =
        log["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["api_token.revoked", "api_token.created", "team.created", "user.created"],
        "newest first"
    );
    let first = &log["items"][3];
    assert_eq!(
        (first["actor_id"].as_str(), first["target_id"].as_str()),
        (Some(admin.as_str()), Some(bia.as_str()))
    );
    assert_eq!(first["source"], "203.0.113.20");
    assert_eq!(log["items"][2]["target_id"], team["id"]);
    assert!(!log.to_string().contains(token["token"].as_str().unwrap()), "a token's secret is never logged");
    // A period and an action select; pages follow on without loss.
    let since = log["items"][1]["at"].as_str().unwrap();
    let (_, recent) = api
        .call(
            Method::GET,
            &format!("/v1/audit?since={}", since.replace('+', "%2B")),
            Some(&a.admin_token),
            None,
        )
        .await;
    assert_eq!(recent["items"].as_array().unwrap().len(), 2, "{recent}");
    let (_, page) = api.call(Method::GET, "/v1/audit?limit=3", Some(&a.admin_token), None).await;
    let next = page["next_cursor"].as_str().unwrap();
    let (_, rest) =
        api.call(Method::GET, &format!("/v1/audit?limit=3&cursor={next}"), Some(&a.admin_token), None).await;
    assert_eq!(rest["items"][0]["action"], "user.created");
    // Agents may not read it.
    let bia_token = api.login("bia@acme.example", "password123").await;
    let (status, body) = api.call(Method::GET, "/v1/audit", Some(&bia_token), None).await;
    assert_error(status, &body, StatusCode::FORBIDDEN);
}
