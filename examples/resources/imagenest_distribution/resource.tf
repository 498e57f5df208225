# Creating the distribution publishes the version and copies it to every region.
# If some regions fail, the apply fails naming each one with the cloud's error; the copies
# that worked are kept and the next apply copies only the failed regions again.
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
