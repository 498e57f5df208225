//! Span-preserving rewriting of image IDs in ROS and Terraform templates.
