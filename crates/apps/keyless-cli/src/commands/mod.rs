pub mod verify_blob;
