package actions

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// LevelNotice is a log level between info and warning that the handler
// renders as a ::notice:: annotation.
const LevelNotice = slog.Level(2)

// Attribute keys that a warning, notice or error record turns into
// annotation properties instead of text, so that
// logger.Error("rule failed", actions.AttrFile, "policy.yml", actions.AttrLine, 12)
// annotates line 12 of policy.yml.
const (
	AttrFile      = "file"
	AttrLine      = "line"
	AttrEndLine   = "endLine"
	AttrColumn    = "col"
	AttrEndColumn = "endColumn"
	AttrTitle     = "title"
)

// handler renders slog records as workflow commands.
type handler struct {
	rt     *Runtime
	level  slog.Leveler
	attrs  []slog.Attr // already qualified with their groups
	prefix string      // open groups, each followed by "."
}

// LogHandler returns a slog.Handler that writes through the runtime: error
// records become ::error:: commands, warnings ::warning::, LevelNotice
// ::notice::, debug ::debug::, and info records plain lines. Attributes
// follow the message as key=value; on annotations the keys AttrFile,
// AttrLine and the others become command properties. Masked secrets are
// redacted, and a plain line that would start a workflow command has its
// first colon escaped. level sets the minimum level; nil means debug, since
// the runner shows debug lines only when debug logging is on.
func (r *Runtime) LogHandler(level slog.Leveler) slog.Handler {
	if level == nil {
		level = slog.LevelDebug
	}
	return &handler{rt: r, level: level}
}

// Enabled implements slog.Handler.
func (h *handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

// WithAttrs implements slog.Handler.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range attrs {
		a.Key = h.prefix + a.Key
		h2.attrs = append(h2.attrs, a)
	}
	return &h2
}

// WithGroup implements slog.Handler.
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.prefix = h.prefix + name + "."
	return &h2
}

// Handle implements slog.Handler.
func (h *handler) Handle(_ context.Context, rec slog.Record) error {
	name := commandName(rec.Level)
	props := map[string]string{}
	var text strings.Builder
	text.WriteString(rec.Message)

	add := func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		if a.Equal(slog.Attr{}) {
			return
		}
		if name != "debug" && name != "" && isProperty(a.Key) {
			props[a.Key] = a.Value.String()
			return
		}
		appendAttr(&text, "", a)
	}
	for _, a := range h.attrs {
		add(a)
	}
	rec.Attrs(func(a slog.Attr) bool {
		a.Key = h.prefix + a.Key
		add(a)
		return true
	})

	if name == "" {
		return h.rt.writeLine(neutralize(h.rt.Redact(text.String())))
	}
	return h.rt.command(name, text.String(), props)
}

// commandName returns the workflow command for a level, or "" for a plain
// line.
func commandName(level slog.Level) string {
	switch {
	case level >= slog.LevelError:
		return "error"
	case level >= slog.LevelWarn:
		return "warning"
	case level >= LevelNotice:
		return "notice"
	case level >= slog.LevelInfo:
		return ""
	default:
		return "debug"
	}
}

func isProperty(key string) bool {
	switch key {
	case AttrFile, AttrLine, AttrEndLine, AttrColumn, AttrEndColumn, AttrTitle:
		return true
	}
	return false
}

// appendAttr writes " key=value", flattening groups into dotted keys and
// quoting values that contain spaces, quotes, "=" or control characters.
func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	if a.Value.Kind() == slog.KindGroup {
		for _, member := range a.Value.Group() {
			member.Value = member.Value.Resolve()
			appendAttr(b, prefix+a.Key+".", member)
		}
		return
	}
	value := a.Value.String()
	if strings.ContainsAny(value, " \t\r\n\"=") || value == "" {
		value = strconv.Quote(value)
	}
	fmt.Fprintf(b, " %s%s=%s", prefix, a.Key, value)
}

// neutralize escapes the first colon of every line that would otherwise
// start a workflow command, because the runner parses any line whose
// trimmed text begins with "::". A lone carriage return ends a line for the
// runner too, so it becomes a line break.
func neutralize(text string) string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		trimmed := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(trimmed, "::") {
			lines[i] = line[:len(line)-len(trimmed)] + "%3A" + trimmed[1:]
		}
	}
	return strings.Join(lines, "\n")
}
