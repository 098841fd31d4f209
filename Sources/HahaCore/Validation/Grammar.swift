/// The grammar of each kind of value in a spec, tight enough that a value reaching a shell word, an argv, a
/// config file, SQL or a URL cannot become anything else there (an option, a second command, a new line).
/// Pure predicates; the validator says which field breaks which rule.
public enum Grammar {
    /// TCP ports.
    public static let ports = 1...65535

    /// A POSIX login name (`useradd`'s default rule): `[a-z_][a-z0-9_-]{0,31}`, so never an option.
    public static func isLoginName(_ text: String) -> Bool {
        whole(text, #/[a-z_][a-z0-9_-]{0,31}/#)
    }

    /// Letters, digits, `_` and `-`, 1–64 characters, not starting with `-`: usable as a SQL identifier,
    /// a shell word and a file name without quoting.
    public static func isIdentifier(_ text: String) -> Bool {
        whole(text, #/[A-Za-z0-9_][A-Za-z0-9_-]{0,63}/#)
    }

    /// A Linux network interface name: at most 15 of `[A-Za-z0-9._-]`, not starting with `-`, not `.` or `..`.
    public static func isInterfaceName(_ text: String) -> Bool {
        text != "." && text != ".." && whole(text, #/[A-Za-z0-9._][A-Za-z0-9._-]{0,14}/#)
    }

    /// An IANA time zone such as `Europe/Berlin`, `America/Argentina/Buenos_Aires`, `Etc/GMT+1` or `UTC`.
    public static func isTimeZone(_ text: String) -> Bool {
        (text == "UTC" || text.contains("/")) && whole(text, #/[A-Za-z0-9_][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_][A-Za-z0-9_+-]*)*/#)
    }

    /// A conservative Docker image reference: `[REGISTRY[:PORT]/]NAME[/NAME…][:TAG][@sha256:DIGEST]`, lower-case
    /// name components, at most 255 characters.
    public static func isImageReference(_ text: String) -> Bool {
        text.count <= 255
            && whole(
                text,
                #/
            (?: [A-Za-z0-9] (?: [A-Za-z0-9-]* [A-Za-z0-9] )? (?: \. [A-Za-z0-9] (?: [A-Za-z0-9-]* [A-Za-z0-9] )? )* (?: : [0-9]{1,5} )? \/ )?
            [a-z0-9]+ (?: (?: [._] | __ | -+ ) [a-z0-9]+ )*
            (?: \/ [a-z0-9]+ (?: (?: [._] | __ | -+ ) [a-z0-9]+ )* )*
            (?: : [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127} )?
            (?: @sha256: [a-f0-9]{64} )?
            /#)
    }

    /// The size in bytes of `128M`, `1G`…: a positive whole number and a unit K, M or G, at most 1024G; nil otherwise.
    public static func bytes(ofSize text: String) -> Int? {
        guard let unit = text.last, let shift = ["K": 10, "M": 20, "G": 30][unit],
            whole(String(text.dropLast()), #/[1-9][0-9]{0,12}/#), let number = Int(text.dropLast()),
            number <= (1 << 40) >> shift
        else { return nil }
        return number << shift
    }

    /// A directory on the nodes: absolute and normalized (no `//`, `/./`, `/../`, trailing `/`), of `[A-Za-z0-9._/-]`.
    public static func isNormalizedAbsolutePath(_ text: String) -> Bool {
        guard text.hasPrefix("/"), text.count <= 255 else { return false }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && component != "." && component != ".."
                && component.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        }
    }

    /// Directories of the operating system that haha must never format, mount over or delete.
    static let systemDirectories: Set<String> = [
        "/", "/etc", "/usr", "/bin", "/sbin", "/boot", "/dev", "/proc", "/sys", "/run",
        "/var", "/var/lib", "/home", "/root", "/tmp", "/opt", "/srv", "/mnt", "/media",
    ]
    /// Top-level directories whose whole tree belongs to the operating system.
    static let systemTrees = ["/proc", "/sys", "/dev", "/boot", "/etc", "/usr", "/bin", "/sbin"]

    /// Whether a path is, or lies inside, a directory of the operating system (`/lib*` included).
    public static func isSystemDirectory(_ text: String) -> Bool {
        let top = "/" + (text.split(separator: "/").first ?? "")
        return systemDirectories.contains(text) || top.hasPrefix("/lib") || systemTrees.contains(top)
    }

    /// A path on the machine running haha (a key, a known-hosts file, the secrets directory): not empty,
    /// no control characters or line breaks, not starting with `-`.
    public static func isLocalPath(_ text: String) -> Bool {
        !text.isEmpty && !text.hasPrefix("-") && !hasControlCharacters(text)
    }

    /// Whether the text holds a control character, a line or paragraph separator.
    public static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { [.control, .lineSeparator, .paragraphSeparator, .format].contains($0.properties.generalCategory) }
    }

    /// Secrets at least this long.
    public static let secretMinimumLength = 16

    /// Whether every character of a secret is in the safe alphabet `[A-Za-z0-9._~-]` (RFC 3986's unreserved
    /// characters: no quoting or escaping needed in a URL's password, SQL, an option file or YAML; `/`, `+` and `=`
    /// are left out because a database URL's password would need them escaped).
    public static func isSecretAlphabet(_ text: String) -> Bool {
        text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._~-".contains($0)) }
    }

    /// An MQTT topic filter for Mosquitto's ACL file: 1–256 visible ASCII characters (no space, so it stays one
    /// word on its line), levels split by `/`, `+` only as a whole level, `#` only as the whole last level.
    public static func isTopicFilter(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 256, text.unicodeScalars.allSatisfy({ (0x21...0x7e).contains($0.value) }) else { return false }
        let levels = text.split(separator: "/", omittingEmptySubsequences: false)
        return levels.enumerated().allSatisfy { index, level in
            if level.contains("#") { return level == "#" && index == levels.count - 1 }
            return !level.contains("+") || level == "+"
        }
    }

    /// Whether all of an ASCII text matches (non-ASCII text never does).
    private static func whole<Output>(_ text: String, _ regex: Regex<Output>) -> Bool {
        text.unicodeScalars.allSatisfy(\.isASCII) && text.wholeMatch(of: regex) != nil
    }
}
