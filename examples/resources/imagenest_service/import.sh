# By ID or by name.
terraform import imagenest_service.app svc-0123456789abcdefghij
terraform import imagenest_service.app acme_app
