# The acme web server for the alicloud provider. `image_id = "centos_7"` is the literal that
# imagenest resolves per region (`imagenest resolve --region R …`); nothing else changes.

variable "vswitch_id" {
  type = string
}

variable "security_group_id" {
  type = string
}

resource "alicloud_instance" "web" {
  instance_name        = "acme-web"
  image_id             = "centos_7"
  instance_type        = "ecs.g7.large"
  vswitch_id           = var.vswitch_id
  security_groups      = [var.security_group_id]
  system_disk_category = "cloud_essd"

  tags = {
    app = "acme"
  }
}

resource "alicloud_ecs_launch_template" "worker" {
  launch_template_name = "acme-worker"
  image_id             = "centos_7"
  instance_type        = "ecs.c7.xlarge"
  security_group_id    = var.security_group_id
}

output "web_id" {
  value = alicloud_instance.web.id
}
