//! A local stand-in for Alibaba Cloud ECS images, for tests and demos.
