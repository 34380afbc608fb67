/// The release this binary was built as. `make install` and `make release` stamp the
/// Makefile's VERSION here for the release build (`git describe --tags --always --dirty`:
/// the tag, or the commit, `-dirty` with local changes) — the string the tarball is named
/// after — and put `dev` back afterwards; a plain `swift build` says `dev`.
enum BuildVersion {
    static let value = "dev"
}
