resource "imagenest_service" "app" {
  name       = "acme_app"
  visibility = "private"
  whitelist  = ["globex", "initech"]

  image_associations = {
    # Templates keep `image_id = "centos_7"`; the preprocessor rewrites it per region.
    centos_7 = {
      package_id = imagenest_package.base.id
      version    = "latest"
    }
  }
}
