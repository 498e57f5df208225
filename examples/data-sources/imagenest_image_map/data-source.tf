data "imagenest_image_map" "app" {
  service = "acme_app"
}

# The JSON file `imagenest resolve --map` reads, for air-gapped pipelines.
output "image_map_json" {
  value = data.imagenest_image_map.app.json
}

# literal → region → image ID
output "centos_7_in_singapore" {
  value = data.imagenest_image_map.app.images["centos_7"]["ap-southeast-1"]
}
