package config

import (
	"sort"
	"strconv"
	"strings"
)

// BurntSushi/toml keeps key positions unexported, and keeps only one per dotted key, so the
// third [[hosts]] and the first share an entry. Errors must point at the exact key, so
// locateKeys walks the source again, after toml has accepted it, and records where every
// key and table starts under the same paths the decoder uses (hosts[2].port). It only
// recognises structure; it never validates, and it stops quietly on anything unexpected.

// pos is a place in a file. Line and Col count from 1; Col counts bytes, as toml does.
type pos struct {
	Line, Col int
}

// located holds the key positions of one TOML file.
type located struct {
	file string
	keys map[string]pos
}

// at returns the position of path, or of its nearest recorded ancestor, so that a value
// synthesised by the decoder still lands near its table.
func (l *located) at(path string) pos {
	if l == nil {
		return pos{}
	}
	for path != "" {
		if p, ok := l.keys[path]; ok {
			return p
		}
		path = parentPath(path)
	}
	return pos{}
}

// errorf makes an error positioned at path.
func (l *located) errorf(path, format string, args ...any) *Error {
	p := l.at(path)
	return newError(l.fileName(), p.Line, p.Col, path, format, args...)
}

func (l *located) fileName() string {
	if l == nil {
		return ""
	}
	return l.file
}

// parentPath drops the last component of a path: a.b[2].c → a.b[2] → a.b → a.
func parentPath(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	// A dot inside a quoted component is not a separator; quoted keys are rare enough that
	// stopping at their start is good enough for positioning.
	return path[:i]
}

// joinKey appends one key to a path, quoting keys that are not bare so that paths stay
// unambiguous.
func joinKey(path, key string) string {
	if !isBareKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func indexKey(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func isBareKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 0x7f || !isBareKeyChar(byte(r)) {
			return false
		}
	}
	return true
}

func isBareKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// locateKeys records the position of every key, table header and array element of src.
func locateKeys(file, src string) *located {
	lc := &locator{
		src:   src,
		keys:  make(map[string]pos),
		count: make(map[string]int),
	}
	lc.lineStarts = append(lc.lineStarts, 0)
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			lc.lineStarts = append(lc.lineStarts, i+1)
		}
	}
	lc.document()
	return &located{file: file, keys: lc.keys}
}

type locator struct {
	src        string
	i          int
	lineStarts []int
	keys       map[string]pos
	// count is the number of elements seen so far of each array of tables, by path.
	count map[string]int
}

func (lc *locator) eof() bool { return lc.i >= len(lc.src) }

func (lc *locator) peek(off int) byte {
	if lc.i+off < len(lc.src) {
		return lc.src[lc.i+off]
	}
	return 0
}

func (lc *locator) posAt(off int) pos {
	line := sort.Search(len(lc.lineStarts), func(n int) bool { return lc.lineStarts[n] > off })
	return pos{Line: line, Col: off - lc.lineStarts[line-1] + 1}
}

func (lc *locator) record(path string, off int) {
	if _, ok := lc.keys[path]; !ok {
		lc.keys[path] = lc.posAt(off)
	}
}

// skipSpace skips blanks, and with newlines also line breaks and comments.
func (lc *locator) skipSpace(newlines bool) {
	for !lc.eof() {
		switch c := lc.src[lc.i]; {
		case c == ' ' || c == '\t' || c == '\r':
			lc.i++
		case c == '\n' && newlines:
			lc.i++
		case c == '#' && newlines:
			lc.skipLine()
		default:
			return
		}
	}
}

func (lc *locator) skipLine() {
	for !lc.eof() && lc.src[lc.i] != '\n' {
		lc.i++
	}
}

func (lc *locator) document() {
	if strings.HasPrefix(lc.src, "\ufeff") {
		lc.i = len("\ufeff")
	}
	table := ""
	for {
		lc.skipSpace(true)
		if lc.eof() {
			return
		}
		start := lc.i
		if lc.src[lc.i] == '[' {
			array := lc.peek(1) == '['
			lc.i++
			if array {
				lc.i++
			}
			names, _ := lc.key()
			if len(names) == 0 {
				return
			}
			table = lc.tablePath(names, array, start)
			lc.skipLine()
			continue
		}
		if !lc.keyValue(table) {
			return
		}
	}
}

// tablePath resolves a header's names to a path: a name that is an array of tables refers
// to its latest element, and a [[header]] opens the next element.
func (lc *locator) tablePath(names []string, array bool, start int) string {
	path := ""
	for n, name := range names {
		path = joinKey(path, name)
		if n == len(names)-1 && array {
			lc.record(path, start)
			i := lc.count[path]
			lc.count[path] = i + 1
			path = indexKey(path, i)
			break
		}
		if c := lc.count[path]; c > 0 {
			path = indexKey(path, c-1)
		}
	}
	lc.record(path, start)
	return path
}

// keyValue reads key = value inside the table at path. It reports false when the input
// is not what it expects, which only happens on input toml would reject.
func (lc *locator) keyValue(table string) bool {
	names, offs := lc.key()
	if len(names) == 0 {
		return false
	}
	path := table
	for n, name := range names {
		path = joinKey(path, name)
		lc.record(path, offs[n])
	}
	lc.skipSpace(false)
	if lc.peek(0) != '=' {
		return false
	}
	lc.i++
	lc.skipSpace(false)
	return lc.value(path)
}

// key reads a possibly dotted, possibly quoted key and returns its parts and their offsets.
func (lc *locator) key() (names []string, offs []int) {
	for {
		lc.skipSpace(false)
		if lc.eof() {
			return nil, nil
		}
		start := lc.i
		switch lc.src[lc.i] {
		case '"':
			s, ok := lc.basicString()
			if !ok {
				return nil, nil
			}
			names = append(names, unescapeBasic(s[1:len(s)-1]))
		case '\'':
			end := strings.IndexByte(lc.src[lc.i+1:], '\'')
			if end < 0 {
				return nil, nil
			}
			names = append(names, lc.src[lc.i+1:lc.i+1+end])
			lc.i += end + 2
		default:
			for !lc.eof() && isBareKeyChar(lc.src[lc.i]) {
				lc.i++
			}
			if lc.i == start {
				return nil, nil
			}
			names = append(names, lc.src[start:lc.i])
		}
		offs = append(offs, start)
		lc.skipSpace(false)
		if lc.peek(0) != '.' {
			return names, offs
		}
		lc.i++
	}
}

// basicString reads a one-line "…" string and returns it with its quotes.
func (lc *locator) basicString() (string, bool) {
	start := lc.i
	for lc.i++; !lc.eof(); lc.i++ {
		switch lc.src[lc.i] {
		case '\\':
			lc.i++
		case '"':
			lc.i++
			return lc.src[start:lc.i], true
		case '\n':
			return "", false
		}
	}
	return "", false
}

func (lc *locator) value(path string) bool {
	switch {
	case lc.eof():
		return false
	case strings.HasPrefix(lc.src[lc.i:], `"""`):
		return lc.multiline(`"""`, true)
	case strings.HasPrefix(lc.src[lc.i:], `'''`):
		return lc.multiline(`'''`, false)
	case lc.src[lc.i] == '"':
		_, ok := lc.basicString()
		return ok
	case lc.src[lc.i] == '\'':
		end := strings.IndexByte(lc.src[lc.i+1:], '\'')
		if end < 0 {
			return false
		}
		lc.i += end + 2
		return true
	case lc.src[lc.i] == '[':
		return lc.array(path)
	case lc.src[lc.i] == '{':
		return lc.inlineTable(path)
	}
	// Numbers, booleans and date-times; a local date-time may hold a space.
	start := lc.i
	for !lc.eof() && !strings.ContainsRune(",]}#\n", rune(lc.src[lc.i])) {
		lc.i++
	}
	return lc.i > start
}

func (lc *locator) multiline(delim string, escapes bool) bool {
	for lc.i += 3; !lc.eof(); lc.i++ {
		if escapes && lc.src[lc.i] == '\\' {
			lc.i++
			continue
		}
		if strings.HasPrefix(lc.src[lc.i:], delim) {
			lc.i += 3
			// Up to two quotes right before the closing delimiter belong to the string.
			for n := 0; n < 2 && lc.peek(0) == delim[0]; n++ {
				lc.i++
			}
			return true
		}
	}
	return false
}

func (lc *locator) array(path string) bool {
	lc.i++
	for n := 0; ; n++ {
		lc.skipSpace(true)
		if lc.peek(0) == ']' {
			lc.i++
			return true
		}
		elem := indexKey(path, n)
		lc.record(elem, lc.i)
		if !lc.value(elem) {
			return false
		}
		lc.skipSpace(true)
		switch lc.peek(0) {
		case ',':
			lc.i++
		case ']':
			lc.i++
			return true
		default:
			return false
		}
	}
}

func (lc *locator) inlineTable(path string) bool {
	lc.i++
	for {
		lc.skipSpace(true)
		switch lc.peek(0) {
		case '}':
			lc.i++
			return true
		case ',':
			lc.i++
			continue
		}
		if !lc.keyValue(path) {
			return false
		}
	}
}

var basicEscapes = map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', 'e': 0x1b, '"': '"', '\\': '\\'}

// unescapeBasic decodes the escapes of a TOML basic string, including TOML 1.1's \e and
// \xHH, which toml accepts; a malformed escape is kept as written.
func unescapeBasic(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if r, ok := basicEscapes[s[i]]; ok {
			b.WriteByte(r)
			continue
		}
		width := 0 // hex digits after \x, \u, \U
		switch s[i] {
		case 'x':
			width = 2
		case 'u':
			width = 4
		case 'U':
			width = 8
		}
		if width > 0 && i+width < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+1+width], 16, 32); err == nil {
				b.WriteRune(rune(n))
				i += width
				continue
			}
		}
		b.WriteByte('\\')
		b.WriteByte(s[i])
	}
	return b.String()
}
