#!/bin/sh
# Linker wrapper for wasm32-unknown-unknown: rustc exports every upstream #[no_mangle] fn from a
# cdylib, including secp256k1-sys's rustsecp256k1_v0_10_0_context_create/destroy and the two
# default callbacks. Those exports root context_create -> ecmult_gen_blind -> the 64 KB ecmult_gen
# table, which wasm-ld then cannot GC (and wasm-opt cannot remove from the merged data segment).
# Dropping just these --export arguments lets wasm-ld GC them. Usage (.cargo/config.toml):
#   [target.wasm32-unknown-unknown]
#   linker = "scripts/wasm-ld.sh"
LLD="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/rust-lld"
skip=0
for a in "$@"; do
  shift
  if [ "$skip" = 1 ]; then
    skip=0
    case "$a" in rustsecp256k1_*) continue ;; *) set -- "$@" --export "$a"; continue ;; esac
  fi
  case "$a" in
    --export) skip=1 ;;
    --export=rustsecp256k1_*) ;;
    *) set -- "$@" "$a" ;;
  esac
done
exec "$LLD" "$@"
