//! Request bodies the suites build again and again: a package, and a version of a custom
//! image in `cn-hangzhou` (where the sim cloud's test images are seeded).

use imagenest_core::{
    package::NewPackage,
    version::{ImageSource, NewVersion},
};

/// A package with no resource group and no tags.
pub fn new_package(name: impl Into<String>, description: impl Into<String>) -> NewPackage {
    NewPackage {
        name: name.into(),
        description: description.into(),
        resource_group: String::new(),
        tags: Default::default(),
    }
}

/// A version, without description, of the custom image `image_id` in `cn-hangzhou`.
pub fn custom_version(name: impl Into<String>, image_id: impl Into<String>) -> NewVersion {
    NewVersion {
        name: name.into(),
        description: String::new(),
        image: ImageSource::Custom {
            region: "cn-hangzhou".into(),
            image_id: image_id.into(),
        },
    }
}
