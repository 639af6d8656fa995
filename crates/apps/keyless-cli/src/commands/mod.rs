pub mod dev_token;
pub mod image;
pub mod log;
pub mod server;
pub mod sign_blob;
pub mod tuf;
pub mod verify_blob;
pub mod verify_image;
