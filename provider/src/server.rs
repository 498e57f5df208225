//! The tfplugin6 `Provider` gRPC service: decodes requests, applies the generic schema
//! rules and dispatches to resources and data sources.

use crate::diag::Diagnostics;
use crate::framework::{Ctx, DataSource, Failure, ProviderDef, Resource, Stop};
use crate::plan::{apply_defaults, plan_change, plan_data_source, reconcile_applied};
use crate::proto::tfplugin6 as pb;
use crate::schema::{Schema, validate::validate_config};
use crate::value::{Type, Value, msgpack};
use pb::provider_server::Provider;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use tonic::{Request, Response, Status};

type Res<T> = Result<Response<T>, Status>;

struct Entry<T: ?Sized> {
    imp: Arc<T>,
    schema: Schema,
    ty: Type,
}

/// The provider's gRPC service, generic over its definition.
pub struct ProviderService<P: ProviderDef> {
    def: P,
    provider_schema: Schema,
    provider_ty: Type,
    resources: HashMap<&'static str, Entry<dyn Resource<P::Client>>>,
    data_sources: HashMap<&'static str, Entry<dyn DataSource<P::Client>>>,
    schema_response: pb::get_provider_schema::Response,
    client: OnceLock<Arc<P::Client>>,
    stop: Stop,
}

impl<P: ProviderDef> ProviderService<P> {
    pub fn new(def: P, stop: Stop) -> Self {
        let provider_schema = def.schema();
        let provider_ty = provider_schema.value_type();
        let resources: HashMap<_, _> = def
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                (
                    r.type_name(),
                    Entry {
                        ty: schema.value_type(),
                        schema,
                        imp: r,
                    },
                )
            })
            .collect();
        let data_sources: HashMap<_, _> = def
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                (
                    d.type_name(),
                    Entry {
                        ty: schema.value_type(),
                        schema,
                        imp: d,
                    },
                )
            })
            .collect();
        let schema_response = pb::get_provider_schema::Response {
            provider: Some(provider_schema.to_proto()),
            resource_schemas: resources
                .iter()
                .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
                .collect(),
            data_source_schemas: data_sources
                .iter()
                .map(|(k, e)| (k.to_string(), e.schema.to_proto()))
                .collect(),
            diagnostics: Vec::new(),
            provider_meta: None,
            server_capabilities: Some(pb::ServerCapabilities {
                plan_destroy: false,
                // The schema is the same for every start of this binary, so Terraform may cache it.
                get_provider_schema_optional: true,
                move_resource_state: false,
            }),
        };
        ProviderService {
            def,
            provider_schema,
            provider_ty,
            resources,
            data_sources,
            schema_response,
            client: OnceLock::new(),
            stop,
        }
    }

    fn resource(&self, name: &str) -> Result<&Entry<dyn Resource<P::Client>>, Status> {
        self.resources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown resource type {name}")))
    }

    fn data_source(&self, name: &str) -> Result<&Entry<dyn DataSource<P::Client>>, Status> {
        self.data_sources
            .get(name)
            .ok_or_else(|| Status::not_found(format!("unknown data source {name}")))
    }

    fn ctx(&self) -> Result<Ctx<P::Client>, Diagnostics> {
        match self.client.get() {
            Some(c) => Ok(Ctx {
                client: c.clone(),
                stop: self.stop.clone(),
            }),
            None => Err(Diagnostics::from_error(
                "Provider not configured",
                "The imagenest provider was used before ConfigureProvider; this is a Terraform or provider bug.",
            )),
        }
    }

    /// Public for the protocol tests: the full GetProviderSchema answer.
    pub fn schema_response(&self) -> &pb::get_provider_schema::Response {
        &self.schema_response
    }
}

fn decode(dv: &Option<pb::DynamicValue>, ty: &Type) -> Result<Value, Status> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    if dv.msgpack.is_empty() && !dv.json.is_empty() {
        let j: serde_json::Value = serde_json::from_slice(&dv.json)
            .map_err(|e| Status::invalid_argument(format!("invalid JSON value: {e}")))?;
        return msgpack::from_json(&j, ty).map_err(|e| Status::invalid_argument(e.to_string()));
    }
    msgpack::decode(&dv.msgpack, ty).map_err(|e| Status::invalid_argument(e.to_string()))
}

fn encode(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: msgpack::encode(v, ty),
        json: Vec::new(),
    })
}

#[tonic::async_trait]
impl<P: ProviderDef> Provider for ProviderService<P> {
    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Res<pb::get_provider_schema::Response> {
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn validate_provider_config(
        &self,
        req: Request<pb::validate_provider_config::Request>,
    ) -> Res<pb::validate_provider_config::Response> {
        let config = decode(&req.get_ref().config, &self.provider_ty)?;
        let mut diags = Diagnostics::new();
        validate_config(&self.provider_schema, &config, &mut diags);
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_resource_config(
        &self,
        req: Request<pb::validate_resource_config::Request>,
    ) -> Res<pb::validate_resource_config::Response> {
        let r = req.get_ref();
        let e = self.resource(&r.type_name)?;
        let config = decode(&r.config, &e.ty)?;
        let mut diags = Diagnostics::new();
        validate_config(&e.schema, &config, &mut diags);
        e.imp.validate(&config, &mut diags);
        locate(&e.schema, &mut diags);
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        req: Request<pb::validate_data_resource_config::Request>,
    ) -> Res<pb::validate_data_resource_config::Response> {
        let r = req.get_ref();
        let e = self.data_source(&r.type_name)?;
        let config = decode(&r.config, &e.ty)?;
        let mut diags = Diagnostics::new();
        validate_config(&e.schema, &config, &mut diags);
        e.imp.validate(&config, &mut diags);
        locate(&e.schema, &mut diags);
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        req: Request<pb::upgrade_resource_state::Request>,
    ) -> Res<pb::upgrade_resource_state::Response> {
        let r = req.get_ref();
        let e = self.resource(&r.type_name)?;
        let json = r
            .raw_state
            .as_ref()
            .map(|s| s.json.as_slice())
            .unwrap_or_default();
        let parsed = serde_json::from_slice::<serde_json::Value>(json)
            .map_err(|e| e.to_string())
            .and_then(|j| msgpack::from_json(&j, &e.ty).map_err(|e| e.to_string()));
        Ok(Response::new(match parsed {
            Ok(v) => pb::upgrade_resource_state::Response {
                upgraded_state: encode(&v, &e.ty),
                diagnostics: Vec::new(),
            },
            Err(msg) => pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics: Diagnostics::from_error("Unreadable stored state", msg).to_proto(),
            },
        }))
    }

    async fn configure_provider(
        &self,
        req: Request<pb::configure_provider::Request>,
    ) -> Res<pb::configure_provider::Response> {
        let config = decode(&req.get_ref().config, &self.provider_ty)?;
        let diags = match self.def.configure(&config).await {
            Ok(client) => {
                // A second ConfigureProvider in the same process keeps the first client.
                let _ = self.client.set(Arc::new(client));
                Diagnostics::new()
            }
            Err(d) => d,
        };
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diags.to_proto(),
        }))
    }

    async fn read_resource(
        &self,
        req: Request<pb::read_resource::Request>,
    ) -> Res<pb::read_resource::Response> {
        let r = req.into_inner();
        let e = self.resource(&r.type_name)?;
        let state = decode(&r.current_state, &e.ty)?;
        let result = match self.ctx() {
            Ok(ctx) if !state.is_null() => e.imp.read(&ctx, &state).await,
            Ok(_) => Ok(None),
            Err(d) => Err(d),
        };
        let (new_state, diags) = match result {
            Ok(Some(mut v)) => {
                v.unknowns_to_null();
                (v, Diagnostics::new())
            }
            Ok(None) => (Value::Null, Diagnostics::new()),
            // Keep the prior state when the read failed.
            Err(d) => (state, d),
        };
        Ok(Response::new(pb::read_resource::Response {
            new_state: encode(&new_state, &e.ty),
            diagnostics: diags.to_proto(),
            private: r.private,
            deferred: None,
        }))
    }

    async fn plan_resource_change(
        &self,
        req: Request<pb::plan_resource_change::Request>,
    ) -> Res<pb::plan_resource_change::Response> {
        let r = req.into_inner();
        let e = self.resource(&r.type_name)?;
        let prior = decode(&r.prior_state, &e.ty)?;
        let proposed = decode(&r.proposed_new_state, &e.ty)?;
        let config = decode(&r.config, &e.ty)?;
        let mut plan = plan_change(&e.schema, &prior, &proposed, &config);
        // A destroy plan carries no intent of its own (see `apply_response`).
        let mut planned_private = if plan.planned.is_null() {
            Vec::new()
        } else {
            r.prior_private
        };
        let mut diags = Diagnostics::new();
        if !plan.planned.is_null() {
            e.imp.modify_plan(&prior, &config, &mut plan);
            if let Ok(ctx) = self.ctx()
                && let Some(p) = e.imp.plan_remote(&ctx, &prior, &mut plan, &mut diags).await
            {
                planned_private = p;
            }
        }
        Ok(Response::new(pb::plan_resource_change::Response {
            planned_state: encode(&plan.planned, &e.ty),
            requires_replace: plan.requires_replace.iter().map(|p| p.to_proto()).collect(),
            planned_private,
            diagnostics: diags.to_proto(),
            legacy_type_system: false,
            deferred: None,
        }))
    }

    async fn apply_resource_change(
        &self,
        req: Request<pb::apply_resource_change::Request>,
    ) -> Res<pb::apply_resource_change::Response> {
        let r = req.into_inner();
        let e = self.resource(&r.type_name)?;
        let prior = decode(&r.prior_state, &e.ty)?;
        let planned = decode(&r.planned_state, &e.ty)?;
        let ctx = match self.ctx() {
            Ok(c) => c,
            Err(d) => {
                return Ok(Response::new(apply_response(&prior, &e.ty, d)));
            }
        };
        let (new_state, diags) = if planned.is_null() {
            match e.imp.delete(&ctx, &prior, &r.planned_private).await {
                Ok(()) => (Value::Null, Diagnostics::new()),
                Err(d) => (prior, d),
            }
        } else {
            let result = if prior.is_null() {
                e.imp.create(&ctx, &planned).await
            } else {
                e.imp.update(&ctx, &prior, &planned).await
            };
            match result {
                Ok(v) => (
                    reconcile_applied(&e.schema, &planned, v),
                    Diagnostics::new(),
                ),
                Err(Failure {
                    diags,
                    partial: Some(v),
                }) => {
                    let mut v = v;
                    v.unknowns_to_null();
                    (v, diags)
                }
                Err(Failure {
                    diags,
                    partial: None,
                }) => (prior, diags),
            }
        };
        Ok(Response::new(apply_response(&new_state, &e.ty, diags)))
    }

    async fn import_resource_state(
        &self,
        req: Request<pb::import_resource_state::Request>,
    ) -> Res<pb::import_resource_state::Response> {
        let r = req.get_ref();
        let e = self.resource(&r.type_name)?;
        let result = match self.ctx() {
            Ok(ctx) => e.imp.import(&ctx, &r.id).await,
            Err(d) => Err(d),
        };
        Ok(Response::new(match result {
            Ok(mut v) => {
                apply_defaults(&e.schema.attributes, &mut v, &Value::Null);
                v.unknowns_to_null();
                pb::import_resource_state::Response {
                    imported_resources: vec![pb::import_resource_state::ImportedResource {
                        type_name: r.type_name.clone(),
                        state: encode(&v, &e.ty),
                        private: Vec::new(),
                    }],
                    diagnostics: Vec::new(),
                    deferred: None,
                }
            }
            Err(d) => pb::import_resource_state::Response {
                imported_resources: Vec::new(),
                diagnostics: d.to_proto(),
                deferred: None,
            },
        }))
    }

    async fn read_data_source(
        &self,
        req: Request<pb::read_data_source::Request>,
    ) -> Res<pb::read_data_source::Response> {
        let r = req.get_ref();
        let e = self.data_source(&r.type_name)?;
        let config = decode(&r.config, &e.ty)?;
        let result = match self.ctx() {
            Ok(ctx) => e.imp.read(&ctx, &config).await,
            Err(d) => Err(d),
        };
        Ok(Response::new(match result {
            Ok(v) => {
                let planned = plan_data_source(&e.schema, &config);
                let v = reconcile_applied(&e.schema, &planned, v);
                pb::read_data_source::Response {
                    state: encode(&v, &e.ty),
                    diagnostics: Vec::new(),
                    deferred: None,
                }
            }
            Err(d) => pb::read_data_source::Response {
                state: None,
                diagnostics: d.to_proto(),
                deferred: None,
            },
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Res<pb::stop_provider::Response> {
        tracing::info!("StopProvider received: cancelling in-flight operations");
        self.stop.trigger();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// Terraform 1.11 locates a path into a nested attribute's object only down to the
/// attribute and its map keys or list indexes; a deeper path falls back to the whole
/// block. Such paths are shortened to what Terraform can show, and the full path moves
/// into the detail.
fn locate(schema: &Schema, diags: &mut Diagnostics) {
    use crate::value::{Path, Step};
    for d in &mut diags.0 {
        let Some(path) = &d.path else { continue };
        let nested = matches!(
            path.0.first(),
            Some(Step::Attr(n)) if matches!(schema.attribute(n).map(|a| &a.kind), Some(crate::schema::AttrKind::Nested(..)))
        );
        if !nested {
            continue;
        }
        let keep = 1 + path.0[1..]
            .iter()
            .take_while(|s| !matches!(s, Step::Attr(_)))
            .count();
        if keep < path.0.len() {
            d.detail = format!("{path}: {}", d.detail);
            d.path = Some(Path(path.0[..keep].to_vec()));
        }
    }
}

/// The answer to ApplyResourceChange. Private bytes only carry a plan's intent to its own
/// apply (e.g. "adopt" for the delete half of a replacement): the stored object gets none,
/// or a later plan (a destroy) would inherit an intent that was never its own.
fn apply_response(
    state: &Value,
    ty: &Type,
    diags: Diagnostics,
) -> pb::apply_resource_change::Response {
    pb::apply_resource_change::Response {
        new_state: encode(state, ty),
        private: Vec::new(),
        diagnostics: diags.to_proto(),
        legacy_type_system: false,
    }
}
