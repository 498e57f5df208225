# By ID or by name (package names are unique per owner).
terraform import imagenest_package.base pkg-0123456789abcdefghij
terraform import imagenest_package.base acme_base
