data "imagenest_region_image" "base" {
  package = "acme_base"
  version = "latest"
  region  = "ap-southeast-1"
}

output "image_id" {
  value = data.imagenest_region_image.base.image_id
}
