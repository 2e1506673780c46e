package policy

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// maxPathLen bounds what is treated as a single path (Linux PATH_MAX).
const maxPathLen = 4096

// protectedPath is one compiled protected_paths entry: a literal prefix or
// a glob, matching the path itself and everything below it.
type protectedPath struct {
	source string // the entry as written and its key path, for reasons
	prefix string // literal match, or "" when glob is set
	glob   *regexp.Regexp
	// siblings extends a literal match to every path that starts with
	// prefix: "/log/audit.jsonl" also covers "/log/audit.jsonl.1.gz".
	siblings bool
}

func (pp protectedPath) match(p string) bool {
	if pp.glob != nil {
		return pp.glob.MatchString(p)
	}
	if pp.siblings {
		return strings.HasPrefix(p, pp.prefix)
	}
	if pp.prefix == "/" {
		return strings.HasPrefix(p, "/")
	}
	return p == pp.prefix || strings.HasPrefix(p, pp.prefix) && p[len(pp.prefix)] == '/'
}

// pathResolver turns strings into absolute, clean paths.
type pathResolver struct {
	home    string
	workDir string
}

// expand makes s an absolute, clean path: file:// URLs are decoded, "~" and
// $HOME expanded, relative paths joined to the work directory, "..", "."
// and repeated slashes removed. ok is false for strings that cannot be a
// path (too long, NUL, newline).
func (r pathResolver) expand(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxPathLen || strings.ContainsAny(s, "\x00\n") {
		return "", false
	}
	if len(s) >= 5 && strings.EqualFold(s[:5], "file:") {
		p, ok := fileURLPath(s)
		if !ok {
			return "", false
		}
		s = p
	}
	switch {
	case s == "~" || strings.HasPrefix(s, "~/"):
		s = r.home + s[1:]
	case strings.HasPrefix(s, "$HOME"):
		s = r.home + s[len("$HOME"):]
	case strings.HasPrefix(s, "${HOME}"):
		s = r.home + s[len("${HOME}"):]
	}
	if !filepath.IsAbs(s) {
		s = filepath.Join(r.workDir, s)
	}
	return filepath.Clean(s), true
}

// maxHops bounds the symlinks followed in one path, as the kernel's
// MAXSYMLINKS does.
const maxHops = 40

// resolveSymlinks follows symlinks in every existing component of the
// absolute clean path p, including a dangling final link, so a link that
// points into a protected directory is caught. Missing components are kept
// as written.
func resolveSymlinks(p string) string {
	res, _, _ := walkSymlinks("/", strings.TrimPrefix(p, "/"), 0)
	return res
}

// walkSymlinks resolves the clean relative path rest below the resolved
// directory base, having followed hops links so far. complete reports that
// every component existed and was followed: res is then the real path of
// an existing file, and hops the links followed in all. Otherwise res is
// the resolved part joined to the rest as written.
func walkSymlinks(base, rest string, hops int) (res string, hopsOut int, complete bool) {
	resolved := base
	for rest != "" {
		var comp string
		comp, rest, _ = strings.Cut(rest, "/")
		next := filepath.Join(resolved, comp)
		fi, err := os.Lstat(next)
		if err != nil {
			return filepath.Join(next, rest), hops, false
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if hops++; hops > maxHops {
			return filepath.Join(next, rest), hops, false
		}
		target, err := os.Readlink(next)
		if err != nil {
			return filepath.Join(next, rest), hops, false
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(resolved, target)
		}
		target = filepath.Clean(target)
		resolved = "/"
		rest = strings.TrimPrefix(filepath.Join(target, rest), "/")
	}
	return resolved, hops, true
}

// compileProtected compiles protected_paths plus the policy file itself
// and the enforcer's own files (extra). Relative protected_paths entries
// (".env", "secrets/*.pem") match at any depth. Existing entries are also
// protected under their symlink-resolved name.
func compileProtected(entries []string, r pathResolver, policyPath string, extra []string) ([]protectedPath, error) {
	var out []protectedPath
	for i, e := range entries {
		src := strings.TrimSpace(e)
		desc := fmt.Sprintf("%s (spec.protected_paths[%d])", src, i)
		s := src
		if !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "~") && !strings.HasPrefix(s, "$HOME") &&
			!strings.HasPrefix(s, "${HOME}") && !hasFileScheme(s) {
			s = "/**/" + s
		}
		p, ok := r.expand(s)
		if !ok {
			return nil, fmt.Errorf("protected path %q is not a path", src)
		}
		variants := []string{p}
		if static := staticPrefix(p); static != "" {
			if res := resolveSymlinks(static); res != static {
				variants = append(variants, res+p[len(static):])
			}
		}
		for _, v := range variants {
			pp, err := newProtected(src, desc, v)
			if err != nil {
				return nil, err
			}
			out = append(out, pp)
		}
	}
	if policyPath != "" {
		abs, err := filepath.Abs(policyPath)
		if err != nil {
			return nil, fmt.Errorf("policy path: %w", err)
		}
		desc := abs + " (the policy file itself, always protected)"
		out = append(out, protectedPath{source: desc, prefix: abs})
		if res := resolveSymlinks(abs); res != abs {
			out = append(out, protectedPath{source: desc, prefix: res})
		}
	}
	for _, e := range extra {
		pps, err := compileOwnFile(e)
		if err != nil {
			return nil, err
		}
		out = append(out, pps...)
	}
	return out, nil
}

// compileOwnFile compiles one of the enforcer's own files (Options.
// ExtraProtected): a literal path, made absolute and clean, protected with
// everything below it and every sibling whose name extends it (rotated
// copies), under its written and its symlink-resolved directory.
func compileOwnFile(e string) ([]protectedPath, error) {
	if strings.TrimSpace(e) == "" || strings.ContainsAny(e, "\x00\n") {
		return nil, fmt.Errorf("enforcer file to protect %q: not a path", e)
	}
	abs, err := filepath.Abs(e)
	if err != nil {
		return nil, fmt.Errorf("enforcer file to protect %q: %w", e, err)
	}
	desc := abs + " (a file of the enforcer, always protected)"
	out := []protectedPath{{source: desc, prefix: abs, siblings: true}}
	dir, name := filepath.Split(abs)
	if res := filepath.Join(resolveSymlinks(filepath.Clean(dir)), name); res != abs {
		out = append(out, protectedPath{source: desc, prefix: res, siblings: true})
	}
	if res := resolveSymlinks(abs); res != abs {
		out = append(out, protectedPath{source: desc, prefix: res, siblings: true})
	}
	return out, nil
}

func hasFileScheme(s string) bool { return len(s) >= 5 && strings.EqualFold(s[:5], "file:") }

func newProtected(src, desc, p string) (protectedPath, error) {
	if !strings.ContainsAny(p, "*?[") {
		return protectedPath{source: desc, prefix: p}, nil
	}
	re, err := regexp.Compile(globRegexp(p))
	if err != nil {
		return protectedPath{}, fmt.Errorf("protected path %q: %w", src, err)
	}
	return protectedPath{source: desc, glob: re}, nil
}

// staticPrefix is the longest leading directory of p without glob
// characters; p itself when it has none.
func staticPrefix(p string) string {
	i := strings.IndexAny(p, "*?[")
	if i < 0 {
		return p
	}
	return filepath.Dir(p[:i+1])
}

// globRegexp translates a path glob to an anchored regexp that also
// matches everything below a match: "*" and "?" stay within a segment,
// "**" spans segments ("/**/" also matches "/"), "[...]" is a class.
func globRegexp(g string) string {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				i++
				if i+1 < len(g) && g[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		case '[':
			end := strings.IndexByte(g[i+1:], ']')
			if end < 0 {
				b.WriteString(`\[`)
				continue
			}
			class := g[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		default:
			if strings.IndexByte(`\.+()|{}^$]`, c) >= 0 {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
	}
	b.WriteString("(?:/.*)?$")
	return b.String()
}

// fileURLPath returns the decoded path of a file: URL ("file:///etc/x",
// "file://localhost/etc/x", "file:/etc/x", percent-encoded or not).
func fileURLPath(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || !strings.EqualFold(u.Scheme, "file") {
		return "", false
	}
	if u.Opaque != "" {
		p, err := url.PathUnescape(u.Opaque)
		return p, err == nil
	}
	// For file://host/path too, the path is what a server would open.
	return u.Path, u.Path != ""
}
