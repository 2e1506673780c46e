package sidecar

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// filter turns one message from the server into what the client gets
// (nil: nothing).
type filter func(ctx context.Context, msg []byte) []byte

// relayJSON passes a JSON response body through f.
func relayJSON(ctx context.Context, w http.ResponseWriter, status int, body io.Reader, limit int64, f filter) error {
	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return fmt.Errorf("read upstream response: %w", err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("upstream response larger than %d bytes", limit)
	}
	out := data
	if len(bytes.TrimSpace(data)) > 0 {
		out = f(ctx, data)
	}
	if out == nil && status == http.StatusOK {
		status = http.StatusAccepted
	}
	w.WriteHeader(status)
	_, err = w.Write(out)
	return err
}

// relaySSE passes an event stream through f one event at a time, without
// buffering the stream: each event's data (one JSON-RPC message) is
// filtered and written, with its id and event fields, then flushed. An
// event f drops is not sent, except its id, so a client can still resume.
func relaySSE(ctx context.Context, w http.ResponseWriter, status int, body io.Reader, limit int64, f filter) error {
	w.WriteHeader(status)
	flush := func() {
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	flush()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), int(limit))
	var fields []byte // id:, event:, retry: lines of the event being read
	var data []byte
	hasData := false
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) > 0 {
			switch name, value := sseField(line); name {
			case "data":
				if hasData {
					data = append(data, '\n')
				}
				data, hasData = append(data, value...), true
			case "":
				// A comment (keep-alive): pass it on.
				if _, err := fmt.Fprintf(w, "%s\n\n", line); err != nil {
					return err
				}
				flush()
			default:
				fields = append(append(fields, line...), '\n')
			}
			continue
		}
		if err := writeEvent(ctx, w, fields, data, hasData, f); err != nil {
			return err
		}
		flush()
		fields, data, hasData = fields[:0], data[:0], false
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("read upstream event stream: %w", err)
	}
	return nil
}

func writeEvent(ctx context.Context, w io.Writer, fields, data []byte, hasData bool, f filter) error {
	if len(fields) == 0 && !hasData {
		return nil
	}
	var out []byte
	if hasData && len(bytes.TrimSpace(data)) > 0 {
		out = f(ctx, data)
	}
	if out == nil && hasData && len(bytes.TrimSpace(data)) > 0 {
		// Dropped: keep only the id, for resumption.
		fields = keepID(fields)
		if len(fields) == 0 {
			return nil
		}
	}
	var b bytes.Buffer
	b.Write(fields)
	if out != nil {
		for line := range bytes.SplitSeq(out, []byte{'\n'}) {
			b.WriteString("data: ")
			b.Write(line)
			b.WriteByte('\n')
		}
	} else if hasData && len(bytes.TrimSpace(data)) == 0 {
		b.WriteString("data: \n")
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// sseField splits an event stream line into its field name and value; a
// comment has no name.
func sseField(line []byte) (string, []byte) {
	if line[0] == ':' {
		return "", nil
	}
	name, value, found := bytes.Cut(line, []byte{':'})
	if !found {
		return string(line), nil
	}
	value = bytes.TrimPrefix(value, []byte{' '})
	return string(name), value
}

func keepID(fields []byte) []byte {
	var out []byte
	for line := range bytes.SplitSeq(fields, []byte{'\n'}) {
		if bytes.HasPrefix(line, []byte("id:")) || string(line) == "id" {
			out = append(append(out, line...), '\n')
		}
	}
	return out
}
