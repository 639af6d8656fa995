pub mod sign_blob;
pub mod tuf;
pub mod verify_blob;
