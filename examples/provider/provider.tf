terraform {
  required_providers {
    imagenest = {
      source = "imagenest/imagenest"
    }
  }
}

# endpoint and token default to IMAGENEST_ENDPOINT and IMAGENEST_TOKEN.
provider "imagenest" {
  endpoint = "http://127.0.0.1:8787"
}
