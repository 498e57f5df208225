# By the distributed version's ID, or by PACKAGE/VERSION.
terraform import imagenest_distribution.v2_1 ver-0123456789abcdefghij
terraform import imagenest_distribution.v2_1 acme_base/v2_1
