//! terraform-provider-imagenest: the Terraform provider binary (plugin protocol 6).

fn main() {
    eprintln!("terraform-provider-imagenest is started by terraform; it is not meant to be run by hand");
    std::process::exit(1);
}
