# By version ID, or by PACKAGE/VERSION (names or IDs).
terraform import imagenest_package_version.v2_1 ver-0123456789abcdefghij
terraform import imagenest_package_version.v2_1 acme_base/v2_1
