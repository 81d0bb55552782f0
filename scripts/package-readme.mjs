// Prints pkg/README.md: js/README.npm.md with the repository's URL (from Cargo.toml) in its links,
// which must be absolute: the registry shows this file away from the repository.
import { readFileSync } from 'node:fs';

const cargo = readFileSync(new URL('../Cargo.toml', import.meta.url), 'utf8');
const repository = cargo.match(/^repository = "([^"]*)"/m)[1].replace(/\/$/, '');
const text = readFileSync(new URL('../js/README.npm.md', import.meta.url), 'utf8');
process.stdout.write(text.replaceAll('{{REPO}}', repository));
