resource "imagenest_package_version" "v2_1" {
  package_id  = imagenest_package.base.id
  name        = "v2_1"
  description = "CentOS 7 base with the 2.1 agent"
  image = {
    type     = "custom"
    region   = "cn-hangzhou"
    image_id = "m-bp1abcdefghijklmnopq"
  }
}

resource "imagenest_package_version" "market" {
  package_id = imagenest_package.base.id
  name       = "market_1"
  image = {
    type         = "marketplace"
    product_code = "cmjj012345"
  }
}
