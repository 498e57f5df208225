//! Cloud drivers of imagenest: the driver trait and the Alibaba Cloud ECS driver.
