resource "imagenest_package" "base" {
  name           = "acme_base"
  description    = "Base image of the acme product"
  resource_group = "rg-acme"
  tags = {
    team = "platform"
  }
}
