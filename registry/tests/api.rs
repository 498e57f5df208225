//! The registry API over a real socket: every endpoint, authentication, cross-account access,
//! bad input, and concurrent updates. Runs on SQLite; the store suite covers PostgreSQL.

use imagenest_core::{Role, distribution::RegionStatus};
use imagenest_registry::store::{Backend, CopyUpdate};
use imagenest_testkit::registry::TestRegistry;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Api {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl Api {
    fn new(reg: &TestRegistry, token: Option<&str>) -> Api {
        Api {
            http: reqwest::Client::new(),
            url: reg.url.clone(),
            token: token.map(String::from),
        }
    }

    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request reaches the registry");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        assert!(status.as_u16() < 500, "server error {status}: {value}");
        if !status.is_success() {
            check_error_body(&value);
        }
        (status, headers, value)
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let (s, _, v) = self.raw(method, path, body, &[]).await;
        (s, v)
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.call(method.clone(), path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }
}

/// Every error is `{code, message[, field]}` and never leaks database details.
fn check_error_body(v: &Value) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("error body is not an object: {v}"));
    assert!(obj.get("code").and_then(Value::as_str).is_some(), "{v}");
    let message = obj.get("message").and_then(Value::as_str).expect("message");
    for leak in ["SQL", "sqlite", "postgres", "syntax error", "constraint"] {
        assert!(!message.contains(leak), "error leaks internals: {message}");
    }
}

struct World {
    reg: TestRegistry,
    admin: Api,
    acme: Api,
    globex: Api,
    cust1: Api,
    cust2: Api,
}

async fn world() -> World {
    let reg = TestRegistry::start(Backend::Sqlite).await;
    let acme = reg.token("acme", Role::Vendor).await;
    let globex = reg.token("globex", Role::Vendor).await;
    let cust1 = reg.token("cust1", Role::Customer).await;
    let cust2 = reg.token("cust2", Role::Customer).await;
    World {
        admin: Api::new(&reg, Some(&reg.admin_token.clone())),
        acme: Api::new(&reg, Some(&acme)),
        globex: Api::new(&reg, Some(&globex)),
        cust1: Api::new(&reg, Some(&cust1)),
        cust2: Api::new(&reg, Some(&cust2)),
        reg,
    }
}

fn package_body(name: &str) -> Value {
    json!({"name": name, "description": "Acme base image for tests", "tags": {"env": "test"}})
}

fn version_body(name: &str) -> Value {
    json!({"name": name, "image": {"type": "custom", "region": "cn-hangzhou", "image_id": "m-source1"}})
}

/// Creates acme's package with a published version distributed to two regions, one available.
async fn distributed(w: &World) -> (String, String) {
    let p = w
        .acme
        .ok(
            Method::POST,
            "/v1/packages",
            Some(package_body("acme_base")),
        )
        .await;
    let pid = p["id"].as_str().unwrap().to_string();
    let v = w
        .acme
        .ok(
            Method::POST,
            &format!("/v1/packages/{pid}/versions"),
            Some(version_body("v_1")),
        )
        .await;
    let vid = v["id"].as_str().unwrap().to_string();
    let d = w
        .acme
        .ok(
            Method::PUT,
            &format!("/v1/versions/{vid}/distribution"),
            Some(json!({"regions": ["cn-beijing", "cn-shanghai"]})),
        )
        .await;
    assert_eq!(d["status"], "distributing");
    let store = &w.reg.state.store;
    let done = CopyUpdate {
        status: RegionStatus::Available,
        progress: 100,
        image_id: Some("m-beijing1".into()),
        error: None,
    };
    store
        .update_region_copy(&vid, "cn-beijing", &done)
        .await
        .unwrap();
    let copying = CopyUpdate {
        status: RegionStatus::Copying,
        progress: 30,
        image_id: Some("m-shanghai1".into()),
        error: None,
    };
    store
        .update_region_copy(&vid, "cn-shanghai", &copying)
        .await
        .unwrap();
    w.reg.state.invalidate();
    (pid, vid)
}

#[tokio::test]
async fn authentication_is_required_and_checked() {
    let w = world().await;
    let anon = Api::new(&w.reg, None);
    let (s, v) = anon.get("/v1/packages").await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["code"], "unauthenticated");
    let bad = Api::new(&w.reg, Some("inest_not_a_real_token"));
    assert_eq!(bad.get("/v1/packages").await.0, StatusCode::UNAUTHORIZED);
    let (s, _, _) = anon
        .raw(
            Method::GET,
            "/v1/packages",
            None,
            &[("authorization", "Basic Zm9vOmJhcg==")],
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // Public endpoints.
    assert_eq!(anon.get("/healthz").await.0, StatusCode::OK);
    let (s, regions) = anon.get("/v1/regions").await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        regions["regions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == "cn-hangzhou")
    );
    let (s, doc) = anon.get("/v1/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["paths"]["/v1/resolve"]["get"].is_object());
    let who = w.acme.ok(Method::GET, "/v1/whoami", None).await;
    assert_eq!(
        who,
        json!({"account": "acme", "role": "vendor", "cloud_account_id": "acme"})
    );
}

#[tokio::test]
async fn tokens_are_created_by_admins_and_revocable() {
    let w = world().await;
    let (s, _) = w
        .acme
        .post("/v1/tokens", json!({"account": "evil", "role": "admin"}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let created = w
        .admin
        .ok(
            Method::POST,
            "/v1/tokens",
            Some(json!({"account": "initech", "role": "vendor", "description": "ci"})),
        )
        .await;
    let secret = created["token"].as_str().unwrap().to_string();
    assert!(secret.starts_with("inest_"));
    let initech = Api::new(&w.reg, Some(&secret));
    assert_eq!(
        initech.ok(Method::GET, "/v1/whoami", None).await["account"],
        "initech"
    );
    let (s, v) = w
        .admin
        .post(
            "/v1/tokens",
            json!({"account": "initech", "role": "customer"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v) = w
        .admin
        .post(
            "/v1/tokens",
            json!({"account": "Bad Name", "role": "vendor"}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("account"))
    );
    // Lists never show secrets; vendors see only their own.
    let mine = initech.ok(Method::GET, "/v1/tokens", None).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert!(mine.to_string().find(&secret).is_none());
    let all = w.admin.ok(Method::GET, "/v1/tokens", None).await;
    assert!(all["items"].as_array().unwrap().len() >= 6);
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        w.acme
            .call(Method::DELETE, &format!("/v1/tokens/{id}"), None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        initech
            .call(Method::DELETE, &format!("/v1/tokens/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        initech.get("/v1/whoami").await.0,
        StatusCode::UNAUTHORIZED,
        "a revoked token stops working at once"
    );
}

#[tokio::test]
async fn packages_crud_and_validation() {
    let w = world().await;
    let (s, headers, p) = w
        .acme
        .raw(
            Method::POST,
            "/v1/packages",
            Some(package_body("acme_base")),
            &[],
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(headers["etag"], "\"1\"");
    assert_eq!(p["owner"], "acme");
    assert_eq!(p["visibility"], "private");
    let id = p["id"].as_str().unwrap();
    for key in [id, "acme_base", "acme%2Facme_base"] {
        assert_eq!(
            w.acme
                .ok(Method::GET, &format!("/v1/packages/{key}"), None)
                .await["id"],
            id,
            "{key}"
        );
    }
    let (s, v) = w.acme.post("/v1/packages", package_body("acme_base")).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );

    let cases = [
        (
            json!({"name": "ab", "description": "long enough text"}),
            "name",
        ),
        (
            json!({"name": "acme-base", "description": "long enough text"}),
            "name",
        ),
        (
            json!({"name": "acme_2", "description": "short"}),
            "description",
        ),
        (
            json!({"name": "acme_2", "description": "long enough text", "tags": {"acs:x": "1"}}),
            "tags.acs:x",
        ),
        (
            json!({"name": "acme_2", "description": "long enough text", "colour": "red"}),
            "",
        ),
        (
            json!({"name": 7, "description": "long enough text"}),
            "name",
        ),
        (json!({"description": "long enough text"}), ""),
    ];
    for (body, field) in cases {
        let (s, v) = w.acme.post("/v1/packages", body.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}: {v}");
        if !field.is_empty() {
            assert_eq!(v["field"], field, "{body}: {v}");
        }
    }
    let many: serde_json::Map<String, Value> =
        (0..21).map(|i| (format!("k{i}"), json!("v"))).collect();
    let (s, v) = w
        .acme
        .post(
            "/v1/packages",
            json!({"name": "acme_2", "description": "long enough text", "tags": many}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("tags"))
    );

    // Update with If-Match.
    let (s, h, v) = w
        .acme
        .raw(
            Method::PATCH,
            &format!("/v1/packages/{id}"),
            Some(json!({"description": "a better description"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(h["etag"], "\"2\"");
    let (s, _, v) = w
        .acme
        .raw(
            Method::PATCH,
            &format!("/v1/packages/{id}"),
            Some(json!({"description": "a stale description"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PRECONDITION_FAILED, Some("precondition_failed"))
    );
    let (s, v) = w
        .acme
        .call(
            Method::PATCH,
            &format!("/v1/packages/{id}"),
            Some(json!({"name": "renamed"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "the name cannot change: {v}");
    assert_eq!(
        w.acme
            .ok(Method::GET, &format!("/v1/packages/{id}"), None)
            .await["description"],
        "a better description"
    );

    assert_eq!(
        w.acme
            .call(Method::DELETE, &format!("/v1/packages/{id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.acme.get(&format!("/v1/packages/{id}")).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn malformed_oversized_and_wrong_type_bodies() {
    let w = world().await;
    let http = reqwest::Client::new();
    let send = |body: Vec<u8>, ctype: &'static str| {
        let req = http
            .post(format!("{}/v1/packages", w.reg.url))
            .bearer_auth(w.acme.token.clone().unwrap())
            .header("content-type", ctype)
            .body(body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            let v: Value = res.json().await.unwrap();
            check_error_body(&v);
            (status, v)
        }
    };
    let (s, v) = send(b"{\"name\": ".to_vec(), "application/json").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, v) = send(b"not json at all".to_vec(), "application/json").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (s, _) = send(b"{}".to_vec(), "text/plain").await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut big = br#"{"name":"acme_big","description":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 2 * 1024 * 1024));
    big.extend(br#""}"#);
    let (s, v) = send(big, "application/json").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let (s, v) = w.acme.get("/v1/nothing-here").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = w.acme.call(Method::PUT, "/v1/packages", None).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
    let (s, v) = w.acme.get("/v1/packages?limit=0").await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("limit"))
    );
    let (s, _) = w.acme.get("/v1/packages?limit=many").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _, v) = w
        .acme
        .raw(
            Method::PATCH,
            "/v1/packages/acme_base",
            Some(json!({})),
            &[("if-match", "yesterday")],
        )
        .await;
    assert!(
        s == StatusCode::BAD_REQUEST || s == StatusCode::NOT_FOUND,
        "{s} {v}"
    );
}

#[tokio::test]
async fn cross_account_access_is_refused_without_revealing() {
    let w = world().await;
    let (pid, vid) = distributed(&w).await;
    // Vendor B on vendor A's objects: 404 as if they did not exist.
    for (method, path, body) in [
        (Method::GET, format!("/v1/packages/{pid}"), None),
        (
            Method::PATCH,
            format!("/v1/packages/{pid}"),
            Some(json!({"description": "hijacked by globex"})),
        ),
        (Method::DELETE, format!("/v1/packages/{pid}"), None),
        (Method::GET, format!("/v1/packages/{pid}/versions"), None),
        (
            Method::POST,
            format!("/v1/packages/{pid}/versions"),
            Some(version_body("v_9")),
        ),
        (Method::GET, format!("/v1/versions/{vid}"), None),
        (
            Method::PATCH,
            format!("/v1/versions/{vid}"),
            Some(json!({"description": "x"})),
        ),
        (Method::DELETE, format!("/v1/versions/{vid}"), None),
        (
            Method::GET,
            format!("/v1/versions/{vid}/distribution"),
            None,
        ),
        (
            Method::PUT,
            format!("/v1/versions/{vid}/distribution"),
            Some(json!({"regions": ["all"]})),
        ),
        (
            Method::POST,
            format!("/v1/versions/{vid}/distribution/retry"),
            None,
        ),
    ] {
        for api in [&w.globex, &w.cust1] {
            let (s, v) = api.call(method.clone(), &path, body.clone()).await;
            assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {v}");
        }
    }
    assert!(
        w.globex.ok(Method::GET, "/v1/packages", None).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // By name, globex's own namespace has no such package.
    assert_eq!(
        w.globex.get("/v1/packages/acme_base").await.0,
        StatusCode::NOT_FOUND
    );
    // Customers create nothing.
    assert_eq!(
        w.cust1
            .post("/v1/packages", package_body("cust_pkg"))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.cust1
            .post("/v1/services", json!({"name": "cust_svc"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    // A vendor cannot associate another vendor's package.
    let (s, v) = w.globex.post("/v1/services", json!({"name": "steal", "visibility": "public", "image_associations": {"centos_7": {"package_id": pid}}})).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("image_associations.centos_7.package_id")
        )
    );
    // Resolution: private package, no service → only the owner.
    let q = format!("/v1/resolve?package={pid}&region=cn-beijing");
    assert_eq!(
        w.acme.ok(Method::GET, &q, None).await["image_id"],
        "m-beijing1"
    );
    for api in [&w.globex, &w.cust1] {
        let (s, v) = api.get(&q).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not_found")),
            "{v}"
        );
    }
}

#[tokio::test]
async fn whitelists_and_public_services_grant_resolution() {
    let w = world().await;
    let (pid, _vid) = distributed(&w).await;
    let svc = w
        .acme
        .ok(Method::POST, "/v1/services", Some(json!({"name": "acme_app", "whitelist": ["cust1"], "image_associations": {"centos_7": {"package_id": pid, "version": "latest"}}})))
        .await;
    let sid = svc["id"].as_str().unwrap().to_string();
    let q = "/v1/resolve?package=acme_base&version=latest&region=cn-beijing";
    let r = w.cust1.ok(Method::GET, q, None).await;
    assert_eq!(
        r,
        json!({"image_id": "m-beijing1", "package": "acme_base", "version": "v_1", "region": "cn-beijing"})
    );
    assert_eq!(w.cust2.get(q).await.0, StatusCode::NOT_FOUND);
    assert_eq!(w.globex.get(q).await.0, StatusCode::NOT_FOUND);
    // The whitelisted customer reads the package and service but cannot change them.
    assert_eq!(
        w.cust1.get(&format!("/v1/packages/{pid}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        w.cust1
            .call(
                Method::PATCH,
                &format!("/v1/packages/{pid}"),
                Some(json!({"description": "customer edit"}))
            )
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        w.cust1.get(&format!("/v1/services/{sid}")).await.0,
        StatusCode::OK
    );
    assert_eq!(
        w.cust2.get(&format!("/v1/services/{sid}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        w.cust1
            .call(Method::DELETE, &format!("/v1/services/{sid}"), None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // Still copying, not distributed, unknown region.
    let (s, v) = w
        .cust1
        .get("/v1/resolve?package=acme_base&region=cn-shanghai")
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("still_copying")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("30%"));
    let (s, v) = w
        .cust1
        .get("/v1/resolve?package=acme_base&region=us-east-1")
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("not_distributed")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("cn-beijing"));
    let (s, v) = w
        .cust1
        .get("/v1/resolve?package=acme_base&region=mars-1")
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("region"))
    );
    let (s, _) = w.cust1.get("/v1/resolve?region=cn-beijing").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Taking cust1 off the whitelist takes effect at once (the cache is invalidated).
    w.acme
        .ok(
            Method::PATCH,
            &format!("/v1/services/{sid}"),
            Some(json!({"whitelist": ["cust2"]})),
        )
        .await;
    assert_eq!(w.cust1.get(q).await.0, StatusCode::NOT_FOUND);
    assert_eq!(w.cust2.get(q).await.0, StatusCode::OK);
    // Public: anyone.
    w.acme
        .ok(
            Method::PATCH,
            &format!("/v1/services/{sid}"),
            Some(json!({"visibility": "public"})),
        )
        .await;
    assert_eq!(w.globex.get(q).await.0, StatusCode::OK);
    assert_eq!(
        w.acme
            .ok(Method::GET, &format!("/v1/packages/{pid}"), None)
            .await["visibility"],
        "public"
    );

    // The image map holds the regions where the literal resolves.
    let map = w
        .cust1
        .ok(Method::GET, &format!("/v1/services/{sid}/image-map"), None)
        .await;
    assert_eq!(
        map,
        json!({"service": "acme_app", "images": {"centos_7": {"package": "acme_base", "version": "latest", "regions": {"cn-beijing": "m-beijing1"}}}})
    );
    let map = w
        .acme
        .ok(Method::GET, "/v1/services/acme_app/image-map", None)
        .await;
    assert_eq!(
        map["images"]["centos_7"]["regions"]["cn-beijing"],
        "m-beijing1"
    );
}

#[tokio::test]
async fn versions_drafts_publishing_and_distribution() {
    let w = world().await;
    let p = w
        .acme
        .ok(
            Method::POST,
            "/v1/packages",
            Some(package_body("acme_base")),
        )
        .await;
    let pid = p["id"].as_str().unwrap();
    let (s, v) = w.acme.post(&format!("/v1/packages/{pid}/versions"), json!({"name": "v_1", "image": {"type": "custom", "region": "mars-1", "image_id": "m-1"}})).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("image.region"))
    );
    let (s, v) = w
        .acme
        .post(
            &format!("/v1/packages/{pid}/versions"),
            json!({"name": "latest", "image": {"type": "marketplace", "product_code": "cmjj01"}}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("name"))
    );
    let v = w
        .acme
        .ok(
            Method::POST,
            &format!("/v1/packages/{pid}/versions"),
            Some(version_body("v_1")),
        )
        .await;
    let vid = v["id"].as_str().unwrap();
    assert_eq!(v["status"], "draft");
    // Drafts: editable, invisible to customers, resolvable by the owner in the source region only.
    let edited = w.acme.ok(Method::PATCH, &format!("/v1/versions/{vid}"), Some(json!({"image": {"type": "custom", "region": "cn-hangzhou", "image_id": "m-source2"}}))).await;
    assert_eq!(edited["image"]["image_id"], "m-source2");
    assert_eq!(
        w.acme
            .ok(
                Method::GET,
                &format!("/v1/resolve?package={pid}&version=v_1&region=cn-hangzhou"),
                None
            )
            .await["image_id"],
        "m-source2"
    );
    let (s, v) = w
        .acme
        .get(&format!(
            "/v1/resolve?package={pid}&version=v_1&region=cn-beijing"
        ))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("draft_outside_source_region"))
    );
    // Publishing freezes the image.
    let published = w
        .acme
        .ok(Method::POST, &format!("/v1/versions/{vid}/publish"), None)
        .await;
    assert_eq!(published["status"], "published");
    let (s, v) = w.acme.call(Method::PATCH, &format!("/v1/versions/{vid}"), Some(json!({"image": {"type": "custom", "region": "cn-hangzhou", "image_id": "m-other"}}))).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("version_published"))
    );
    assert_eq!(
        w.acme
            .ok(
                Method::PATCH,
                &format!("/v1/versions/{vid}"),
                Some(json!({"description": "release notes"}))
            )
            .await["description"],
        "release notes"
    );
    // Distribution: validation and `all`.
    let (s, v) = w
        .acme
        .call(
            Method::PUT,
            &format!("/v1/versions/{vid}/distribution"),
            Some(json!({"regions": ["cn-beijing", "mars-1"]})),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("regions[1]"))
    );
    let (s, _) = w
        .acme
        .call(
            Method::PUT,
            &format!("/v1/versions/{vid}/distribution"),
            Some(json!({"regions": []})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let d = w
        .acme
        .ok(
            Method::PUT,
            &format!("/v1/versions/{vid}/distribution"),
            Some(json!({"regions": ["all"]})),
        )
        .await;
    let regions = w.acme.ok(Method::GET, "/v1/regions", None).await;
    assert_eq!(
        d["regions"].as_array().unwrap().len(),
        regions["regions"].as_array().unwrap().len()
    );
    let d = w
        .acme
        .ok(
            Method::PUT,
            &format!("/v1/versions/{vid}/distribution"),
            Some(json!({"regions": ["cn-beijing"]})),
        )
        .await;
    assert_eq!(
        d["regions"].as_array().unwrap().len(),
        1,
        "regions never started are simply dropped"
    );
    let d = w
        .acme
        .ok(
            Method::POST,
            &format!("/v1/versions/{vid}/distribution/retry"),
            None,
        )
        .await;
    assert_eq!(d["regions"][0]["status"], "pending");
    assert_eq!(
        w.acme
            .call(
                Method::DELETE,
                &format!("/v1/versions/{vid}/distribution"),
                None
            )
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    // The list shows both statuses; a published version no service pins can be deleted.
    let list = w
        .acme
        .ok(Method::GET, &format!("/v1/packages/{pid}/versions"), None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (s, v) = w
        .acme
        .call(Method::DELETE, &format!("/v1/packages/{pid}"), None)
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(
        w.acme
            .call(Method::DELETE, &format!("/v1/versions/{vid}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.acme
            .call(Method::DELETE, &format!("/v1/packages/{pid}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn services_validation_and_pinning() {
    let w = world().await;
    let (pid, vid) = distributed(&w).await;
    let (s, v) = w.acme.post("/v1/services", json!({"name": "acme_app", "image_associations": {"centos_7": {"package_id": pid, "version": "v_9"}}})).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("image_associations.centos_7.version")
        )
    );
    let (s, v) = w
        .acme
        .post(
            "/v1/services",
            json!({"name": "acme_app", "whitelist": ["UPPER"]}),
        )
        .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("whitelist"))
    );
    let (s, _) = w
        .acme
        .post(
            "/v1/services",
            json!({"name": "acme_app", "visibility": "secret"}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let svc = w.acme.ok(Method::POST, "/v1/services", Some(json!({"name": "acme_app", "image_associations": {"centos_7": {"package_id": pid, "version": "v_1"}}}))).await;
    let (s, _) = w
        .acme
        .post("/v1/services", json!({"name": "acme_app"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (s, v) = w
        .acme
        .call(Method::DELETE, &format!("/v1/versions/{vid}"), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("conflict"))
    );
    assert!(v["message"].as_str().unwrap().contains("acme_app"), "{v}");
    let list = w.acme.ok(Method::GET, "/v1/services", None).await;
    assert_eq!(list["items"][0]["id"], svc["id"]);
    assert!(
        w.globex.ok(Method::GET, "/v1/services", None).await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let sid = svc["id"].as_str().unwrap();
    assert_eq!(
        w.acme
            .call(Method::DELETE, &format!("/v1/services/{sid}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        w.acme
            .call(Method::DELETE, &format!("/v1/versions/{vid}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn concurrent_conflicting_updates_cannot_both_win() {
    let w = world().await;
    let p = w
        .acme
        .ok(
            Method::POST,
            "/v1/packages",
            Some(package_body("acme_base")),
        )
        .await;
    let id = p["id"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    for i in 0..10 {
        let api = Api {
            http: reqwest::Client::new(),
            url: w.reg.url.clone(),
            token: w.acme.token.clone(),
        };
        let path = format!("/v1/packages/{id}");
        tasks.push(tokio::spawn(async move {
            let (s, _, _) = api
                .raw(
                    Method::PATCH,
                    &path,
                    Some(json!({"description": format!("writer number {i}")})),
                    &[("if-match", "\"1\"")],
                )
                .await;
            s
        }));
    }
    let statuses: Vec<StatusCode> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK
            || *s == StatusCode::PRECONDITION_FAILED
            || *s == StatusCode::CONFLICT),
        "{statuses:?}"
    );
    assert_eq!(
        w.acme
            .ok(Method::GET, &format!("/v1/packages/{id}"), None)
            .await["revision"],
        2
    );
}

#[tokio::test]
async fn lists_paginate_and_metrics_count() {
    let w = world().await;
    for i in 0..7 {
        w.acme
            .ok(
                Method::POST,
                "/v1/packages",
                Some(package_body(&format!("pkg_{i}"))),
            )
            .await;
    }
    let mut token: Option<String> = None;
    let mut names = Vec::new();
    loop {
        let path = match &token {
            Some(t) => format!("/v1/packages?limit=3&page_token={t}"),
            None => "/v1/packages?limit=3".to_string(),
        };
        let page = w.acme.ok(Method::GET, &path, None).await;
        names.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["name"].as_str().unwrap().to_string()),
        );
        match page.get("next_page_token").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    names.sort();
    assert_eq!(
        names,
        (0..7).map(|i| format!("pkg_{i}")).collect::<Vec<_>>()
    );
    let text = reqwest::get(format!("{}/metrics", w.reg.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            "imagenest_http_requests_total{route=\"/v1/packages\",method=\"POST\",status=\"201\"} 7"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn templates_are_resolved_server_side() {
    let w = world().await;
    let (pid, _vid) = distributed(&w).await;
    w.acme
        .ok(
            Method::POST,
            "/v1/services",
            Some(json!({"name": "acme_app", "whitelist": ["cust1"], "image_associations": {"centos_7": {"package_id": pid}}})),
        )
        .await;
    let template = "ROSTemplateFormatVersion: '2015-09-01'\r\n# the web tier\r\nResources:\r\n  Web:\r\n    Type: ALIYUN::ECS::Instance\r\n    Properties:\r\n      ImageId: centos_7   # replaced per region\r\n      InstanceType: ecs.g7.large\r\n  Db:\r\n    Type: ALIYUN::ECS::Instance\r\n    Properties:\r\n      ImageId: 'ubuntu_22'\r\n";
    let body = |region: &str, strict: bool| json!({"service": "acme_app", "region": region, "template": template, "strict": strict});
    let answer = w
        .cust1
        .ok(
            Method::POST,
            "/v1/resolve/template",
            Some(body("cn-beijing", false)),
        )
        .await;
    assert_eq!(
        answer["template"],
        template.replace("ImageId: centos_7 ", "ImageId: m-beijing1 ")
    );
    assert_eq!(answer["format"], "ros-yaml");
    assert_eq!(answer["complete"], false, "ubuntu_22 has no association");
    let sites = answer["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0]["outcome"], "replaced");
    assert_eq!(sites[0]["line"], 7);
    assert_eq!(sites[1]["outcome"], "unassociated");
    // Where the package is not available, the site says why and keeps its value.
    let answer = w
        .cust1
        .ok(
            Method::POST,
            "/v1/resolve/template",
            Some(body("us-east-1", false)),
        )
        .await;
    assert_eq!(answer["template"], template);
    assert!(
        answer["sites"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not distributed"),
        "{answer}"
    );
    // Strict: unresolved sites are an error.
    let (s, v) = w
        .cust1
        .post("/v1/resolve/template", body("cn-beijing", true))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("unresolved_sites")),
        "{v}"
    );
    assert!(v["message"].as_str().unwrap().contains("Db"), "{v}");
    // Bad input.
    let (s, v) = w.cust1.post("/v1/resolve/template", json!({"service": "acme_app", "region": "cn-beijing", "template": "Resources:\n  Web: [unclosed\n"})).await;
    assert_eq!(
        (s, v["code"].as_str(), v["field"].as_str()),
        (
            StatusCode::BAD_REQUEST,
            Some("invalid_template"),
            Some("template")
        ),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().contains(':'),
        "names the position: {v}"
    );
    let (s, _) = w
        .cust1
        .post(
            "/v1/resolve/template",
            json!({"service": "acme_app", "region": "mars-1", "template": template}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = w
        .cust2
        .post("/v1/resolve/template", body("cn-beijing", false))
        .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a customer outside the whitelist does not see the service"
    );
    // Terraform, detected from the file name.
    let tf =
        "resource \"alicloud_instance\" \"web\" {\n  image_id = \"centos_7\" // boot image\n}\n";
    let answer = w
        .cust1
        .ok(Method::POST, "/v1/resolve/template", Some(json!({"service": "acme_app", "region": "cn-beijing", "template": tf, "filename": "main.tf"})))
        .await;
    assert_eq!(answer["template"], tf.replace("centos_7", "m-beijing1"));
    assert_eq!(answer["complete"], true);
}
