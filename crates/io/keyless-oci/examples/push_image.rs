//! Push a small test image (config + one layer + manifest) to a registry,
//! for demos and manual testing without a container engine:
//! `cargo run -p keyless-oci --example push_image -- 127.0.0.1:5000/demo/hello:1.0`

use keyless_oci::{ClientOptions, Reference, RegistryClient};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let Some(image) = std::env::args().nth(1) else {
        eprintln!("usage: push_image REGISTRY/REPO:TAG");
        std::process::exit(2);
    };
    let result = async {
        let reference = Reference::parse(&image)?;
        let client =
            RegistryClient::new(ClientOptions::new().danger_allow_insecure_registry(true))?;
        let desc = keyless_testkit::registry::push_test_image(&client, &reference, &image).await?;
        Ok::<_, Box<dyn std::error::Error>>(desc.digest.to_string())
    }
    .await;
    match result {
        Ok(digest) => println!("{image}@{digest}"),
        Err(e) => {
            eprintln!("push_image: {e}");
            std::process::exit(1);
        }
    }
}
