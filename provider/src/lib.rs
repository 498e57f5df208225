//! imagenest Terraform provider: plugin protocol 6 server, value/schema layer, resources.

pub mod proto {
    //! Generated protobuf and gRPC code (see proto/ and build.rs).
    pub mod tfplugin6 {
        //! Terraform plugin protocol 6.8 (subset).
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        //! go-plugin's GRPCController.
        tonic::include_proto!("plugin");
    }
}

pub mod data_sources;
pub mod diag;
pub mod docs;
pub mod framework;
pub mod plan;
pub mod plugin;
pub mod provider;
pub mod resources;
pub mod schema;
pub mod server;
pub mod value;
