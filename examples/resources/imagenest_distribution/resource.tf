# Creating the distribution publishes the version and copies it to every region.
resource "imagenest_distribution" "v2_1" {
  version_id = imagenest_package_version.v2_1.id
  regions    = ["cn-hangzhou", "cn-shanghai", "ap-southeast-1"]
  wait_for   = "all" # or "any", or "none"

  timeouts {
    create = "60m"
    update = "60m"
  }
}

output "images" {
  value = imagenest_distribution.v2_1.region_images
}
