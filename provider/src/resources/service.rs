//! `imagenest_service`: visibility, whitelist and image associations (literal → package/version).

use super::{api_error, check};
use crate::diag::Diagnostics;
use crate::framework::{Ctx, Failure, Resource};
use crate::schema::{Attribute, Nesting, Schema, validate};
use crate::value::{Path, Type, Value};
use async_trait::async_trait;
use imagenest_client::Client;
use imagenest_core::names;
use imagenest_core::service::{
    Association, LATEST, MAX_ASSOCIATIONS, MAX_WHITELIST, NewService, Service, ServiceUpdate,
    Visibility,
};
use std::collections::{BTreeMap, BTreeSet};

pub struct ServiceResource;

const ATTRS: &[&str] = &["name", "visibility", "whitelist", "image_associations"];

fn to_state(s: &Service, prior: &Value) -> Value {
    let whitelist = if s.whitelist.is_empty() && prior.get("whitelist").is_null() {
        Value::Null
    } else {
        Value::string_set(s.whitelist.iter().cloned())
    };
    let assocs = if s.image_associations.is_empty() && prior.get("image_associations").is_null() {
        Value::Null
    } else {
        Value::Map(
            s.image_associations
                .iter()
                .map(|(lit, a)| {
                    let v = Value::object([
                        ("package_id", Value::from(a.package_id.as_str())),
                        ("version", Value::from(a.version.as_str())),
                    ]);
                    (lit.clone(), v)
                })
                .collect(),
        )
    };
    Value::object([
        ("id", Value::from(s.id.as_str())),
        ("name", Value::from(s.name.as_str())),
        ("visibility", Value::from(s.visibility.as_str())),
        ("whitelist", whitelist),
        ("image_associations", assocs),
    ])
}

fn whitelist_of(v: &Value) -> BTreeSet<String> {
    v.get("whitelist").strings().into_iter().collect()
}

fn associations_of(v: &Value) -> BTreeMap<String, Association> {
    v.get("image_associations")
        .entries()
        .map(|m| {
            m.iter()
                .map(|(lit, a)| {
                    let assoc = Association {
                        package_id: a.str_attr("package_id").unwrap_or_default(),
                        version: a.str_attr("version").unwrap_or_else(|| LATEST.to_string()),
                    };
                    (lit.clone(), assoc)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn visibility_of(v: &Value) -> Visibility {
    v.get("visibility")
        .as_str()
        .and_then(Visibility::parse)
        .unwrap_or_default()
}

#[async_trait]
impl Resource<Client> for ServiceResource {
    fn type_name(&self) -> &'static str {
        "imagenest_service"
    }

    fn schema(&self) -> Schema {
        let assoc_attrs = vec![
            Attribute::string("package_id").required().describe("ID of the package whose image replaces the literal, e.g. `imagenest_package.base.id`."),
            Attribute::string("version")
                .default(Value::from(LATEST))
                .describe("Version name, or `latest` (default): the newest published version available in the deploy region.")
                .validate(validate::string(|s| {
                    if s == LATEST { Ok(()) } else { names::version_name(s).map_err(|e| format!("{}; or use `latest`", e.message)) }
                })),
        ];
        Schema::new(
            "A service: who may deploy it and which template image literals map to which package versions.",
            vec![
                Attribute::string("id").computed().keep_on_update().describe("Registry ID of the service."),
                Attribute::string("name")
                    .required()
                    .describe("Service name: 3–128 letters, digits, `_` or `-`. Renaming keeps the service and its ID.")
                    .validate(validate::string(|s| names::service_name(s).map_err(|e| e.message))),
                Attribute::string("visibility")
                    .default(Value::from("private"))
                    .describe("`private` (default: the owner and the whitelist) or `public` (every account).")
                    .validate(validate::one_of(&["private", "public"])),
                Attribute::typed("whitelist", Type::set(Type::String))
                    .optional()
                    .describe("Registry account names allowed to deploy a private service (at most 50).")
                    .validate(validate::max_items(MAX_WHITELIST))
                    .validate(validate::each_string(|s| names::account_name("whitelist", s).map_err(|e| e.message))),
                Attribute::nested("image_associations", Nesting::Map, assoc_attrs)
                    .optional()
                    .describe("Template image literal (e.g. `centos_7`) → { package_id, version }.")
                    .validate(validate::max_items(MAX_ASSOCIATIONS))
                    .validate(validate::each_key(|k| names::literal("image_associations", k).map_err(|e| e.message))),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(m) = config.get("image_associations").entries() {
            for (lit, a) in m {
                if let Some(p) = a.get("package_id").as_str() {
                    let r = if p.is_empty() {
                        Err(imagenest_core::Invalid::new(
                            "package_id",
                            "must name a package ID",
                        ))
                    } else {
                        Ok(())
                    };
                    check(
                        diags,
                        Path::attr("image_associations")
                            .key(lit)
                            .child("package_id"),
                        r,
                    );
                }
            }
        }
    }

    async fn create(&self, ctx: &Ctx<Client>, planned: &Value) -> Result<Value, Failure> {
        let new = NewService {
            name: planned.str_attr("name").unwrap_or_default(),
            visibility: visibility_of(planned),
            whitelist: whitelist_of(planned),
            image_associations: associations_of(planned),
        };
        let s = ctx
            .client
            .create_service(&new)
            .await
            .map_err(|e| api_error("create the service", &e, ATTRS))?;
        Ok(to_state(&s, planned))
    }

    async fn read(&self, ctx: &Ctx<Client>, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let id = state.str_attr("id").unwrap_or_default();
        match ctx.client.service(&id).await {
            Ok(s) => Ok(Some(to_state(&s, state))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(api_error("read the service", &e, ATTRS)),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value, Failure> {
        let id = prior.str_attr("id").unwrap_or_default();
        let update = ServiceUpdate {
            name: planned.str_attr("name"),
            visibility: Some(visibility_of(planned)),
            whitelist: Some(whitelist_of(planned)),
            image_associations: Some(associations_of(planned)),
        };
        let s = ctx
            .client
            .update_service(&id, &update, None)
            .await
            .map_err(|e| api_error("update the service", &e, ATTRS))?;
        Ok(to_state(&s, planned))
    }

    async fn delete(
        &self,
        ctx: &Ctx<Client>,
        prior: &Value,
        _private: &[u8],
    ) -> Result<(), Diagnostics> {
        let id = prior.str_attr("id").unwrap_or_default();
        match ctx.client.delete_service(&id).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_not_found() => Ok(()),
            Err(e) => Err(api_error("delete the service", &e, ATTRS)),
        }
    }

    async fn import(&self, ctx: &Ctx<Client>, id: &str) -> Result<Value, Diagnostics> {
        let s = ctx
            .client
            .service(id)
            .await
            .map_err(|e| api_error(&format!("import service {id:?}"), &e, &[]))?;
        Ok(to_state(&s, &Value::Null))
    }
}
