# By the distributed version's ID.
terraform import imagenest_distribution.v2_1 ver-0123456789abcdefghij
