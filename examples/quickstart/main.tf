# The quickstart story in one Terraform configuration: a deployment package, its first version,
# the distribution of that version to several regions, and a public service that associates the
# template literal `centos_7` with the package. `imagenest quickstart` applies it against a
# local registry; point IMAGENEST_ENDPOINT / IMAGENEST_TOKEN at your own registry to use it there.

terraform {
  required_version = ">= 1.5"
  required_providers {
    imagenest = {
      source = "imagenest/imagenest"
    }
  }
}

# endpoint and token come from IMAGENEST_ENDPOINT and IMAGENEST_TOKEN.
provider "imagenest" {}

variable "source_image_id" {
  type        = string
  description = "The vendor's source image (owned by the token's account, shared with the delivery account)."
}

variable "source_region" {
  type        = string
  default     = "cn-hangzhou"
  description = "Region of the source image."
}

variable "regions" {
  type        = set(string)
  default     = ["cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-central-1"]
  description = "Regions customers may deploy in; the version is copied to each."
}

variable "wait_for" {
  type        = string
  default     = "all"
  description = "How long `apply` waits for the copies: all, any or none."
}

resource "imagenest_package" "base" {
  name        = "acme_base"
  description = "CentOS 7 base image of the acme product"
  tags = {
    team = "platform"
  }
}

resource "imagenest_package_version" "v1_0" {
  package_id  = imagenest_package.base.id
  name        = "v1_0"
  description = "First release of the acme base image"
  image = {
    type     = "custom"
    region   = var.source_region
    image_id = var.source_image_id
  }
}

# Creating the distribution publishes the version and copies it to every region.
resource "imagenest_distribution" "v1_0" {
  version_id = imagenest_package_version.v1_0.id
  regions    = var.regions
  wait_for   = var.wait_for

  timeouts {
    create = "30m"
    delete = "5m"
  }
}

# Templates keep the literal `centos_7`; `imagenest resolve --service acme_app` rewrites it to the
# image of the deploy region. A public service makes the package resolvable by every account.
resource "imagenest_service" "app" {
  name       = "acme_app"
  visibility = "public"

  image_associations = {
    centos_7 = {
      package_id = imagenest_package.base.id
      version    = "latest"
    }
  }

  depends_on = [imagenest_distribution.v1_0]
}

output "version_id" {
  value = imagenest_package_version.v1_0.id
}

output "region_images" {
  description = "Region → image ID of every available copy."
  value       = imagenest_distribution.v1_0.region_images
}

output "service" {
  value = imagenest_service.app.name
}
