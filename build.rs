//! Compiles `proto/eeacoverage/v1/*.proto` with protox (pure Rust, no system `protoc`) and writes
//! the file descriptor set that server reflection serves.

use std::path::PathBuf;

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = PathBuf::from("proto");
    let mut proto_files: Vec<PathBuf> = std::fs::read_dir(proto_dir.join("eeacoverage/v1"))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "proto"))
        .collect();
    proto_files.sort();

    println!("cargo:rerun-if-changed=proto");
    for path in &proto_files {
        println!("cargo:rerun-if-changed={}", path.display());
    }

    let file_descriptors = protox::compile(&proto_files, [&proto_dir])?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("eeacoverage_descriptor.bin"), file_descriptors.encode_to_vec())?;

    tonic_prost_build::configure()
        // `pb::Agent` gets a hand-written Debug that leaves the display name out (src/pb.rs).
        .skip_debug(["eeacoverage.v1.Agent"])
        .build_client(true)
        .build_server(true)
        .emit_rerun_if_changed(false)
        .compile_fds(file_descriptors)?;
    Ok(())
}
