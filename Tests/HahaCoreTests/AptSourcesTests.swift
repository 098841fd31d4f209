import Testing

@testable import HahaCore

/// The Debian archive comes from the host's apt sources; these use reserved example hosts, never a real archive.
@Suite struct AptSourcesTests {
    @Test func oneLineFormatWithOptionsCommentsAndSourceLines() {
        let text = """
            # a comment
            deb-src http://mirror.example.org/debian bookworm main
            deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example.org/debian/ bookworm main contrib # trailing
            deb [ arch=amd64 ] https://other.example.net/apt cloud-sdk main

            """
        let entries = AptSources.parseList(text)
        #expect(
            entries == [
                .init(uri: "http://mirror.example.org/debian/", suites: ["bookworm"], components: ["main", "contrib"]),
                .init(uri: "https://other.example.net/apt", suites: ["cloud-sdk"], components: ["main"]),
            ])
        #expect(AptSources.debianArchive(in: entries) == "http://mirror.example.org/debian")
    }

    @Test func deb822StanzasWithSeveralURIsDisabledOnesAndContinuationLines() {
        let text = """
            Types: deb
            URIs: http://disabled.example.org/debian
            Suites: trixie
            Components: main
            Enabled: no

            Types: deb deb-src
            URIs: http://security.example.org/debian-security
            Suites: bookworm-security
            Components: main
            Signed-By:
             -----BEGIN PGP PUBLIC KEY BLOCK-----
             .
             -----END PGP PUBLIC KEY BLOCK-----

            Types: deb
            # a comment inside a stanza
            URIs: http://a.example.org/debian https://b.example.org/debian
            Suites: bookworm bookworm-updates
            Components: main
            """
        let entries = AptSources.parseDeb822(text)
        #expect(
            entries.map(\.uri) == [
                "http://disabled.example.org/debian", "http://security.example.org/debian-security",
                "http://a.example.org/debian", "https://b.example.org/debian",
            ])
        #expect(entries[0].enabled == false)
        #expect(entries[2].suites == ["bookworm", "bookworm-updates"])
        #expect(AptSources.debianArchive(in: entries) == "http://a.example.org/debian")
    }

    @Test func noDebianArchiveAmongThirdPartySecurityOrUnusableSources() {
        let entries = [
            AptSources.Entry(uri: "https://vendor.example.com/node_20.x", suites: ["nodistro"], components: ["main"]),
            AptSources.Entry(uri: "http://security.example.org/debian-security", suites: ["trixie-security"], components: ["main"]),
            AptSources.Entry(uri: "cdrom:[Debian 12]/", suites: ["bookworm"], components: ["main"]),
            AptSources.Entry(uri: "http://nomain.example.org/debian", suites: ["bookworm"], components: ["contrib"]),
        ]
        #expect(AptSources.debianArchive(in: entries) == nil)
        #expect(AptSources.debianArchive(in: []) == nil)
    }

    @Test func suiteAliasesAndUpdatesCount() {
        #expect(
            AptSources.debianArchive(in: [.init(uri: "file:/srv/mirror", suites: ["stable-updates"], components: ["main"])])
                == "file:/srv/mirror")
    }
}
