pub mod sign_blob;
pub mod verify_blob;
