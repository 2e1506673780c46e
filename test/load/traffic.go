package load

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// kind is one sort of call of the traffic.
type kind int

const (
	kindEcho       kind = iota // allowed tools/call
	kindAdd                    // allowed tools/call
	kindNote                   // allowed tools/call, arguments checked by allow_args
	kindList                   // tools/list, filtered by the enforcer
	kindDeniedTool             // a tool in the token but not in the policy: -32001
	kindBadArgs                // write_note with a path allow_args refuses: -32001
	numKinds
)

var kindNames = [numKinds]string{"tools/call echo", "tools/call add", "tools/call write_note", "tools/list",
	"denied tool (delete_all)", "argument violation (write_note)"}

func (k kind) String() string { return kindNames[k] }

// mix is the traffic, repeated: 80% allowed calls, 10% tools/list, 5%
// denied tools, 5% argument violations.
var mix = [20]kind{
	kindEcho, kindEcho, kindAdd, kindEcho, kindNote, kindEcho, kindList, kindEcho, kindAdd, kindDeniedTool,
	kindEcho, kindEcho, kindNote, kindEcho, kindList, kindEcho, kindAdd, kindEcho, kindEcho, kindBadArgs,
}

func kindOf(i int) kind { return mix[i%len(mix)] }

// Outcomes of a call. Expected denials are outcomes, not errors.
const (
	outcomeAllowed = "allowed"
	outcomeListed  = "listed"
	outcomeDenied  = "denied as expected (-32001)"
)

// do makes call i on session and returns its outcome, or an error when
// the answer is not the one the policy gives.
func do(ctx context.Context, session *mcp.ClientSession, i int) (string, error) {
	switch k := kindOf(i); k {
	case kindEcho, kindAdd, kindNote:
		res, err := session.CallTool(ctx, callParams(k, i))
		if err != nil {
			return "", fmt.Errorf("%s: %w", k, err)
		}
		if res.IsError {
			return "", fmt.Errorf("%s: the tool answered an error", k)
		}
		return outcomeAllowed, nil
	case kindList:
		res, err := session.ListTools(ctx, nil)
		if err != nil {
			return "", fmt.Errorf("%s: %w", k, err)
		}
		names := make([]string, 0, len(res.Tools))
		for _, t := range res.Tools {
			names = append(names, t.Name)
		}
		if slices.Contains(names, "delete_all") || !slices.Contains(names, "echo") {
			return "", fmt.Errorf("%s: got %v, want echo and never delete_all", k, names)
		}
		return outcomeListed, nil
	default:
		_, err := session.CallTool(ctx, callParams(k, i))
		var rpcErr *jsonrpc.Error
		if errors.As(err, &rpcErr) && rpcErr.Code == -32001 {
			return outcomeDenied, nil
		}
		if err == nil {
			return "", fmt.Errorf("%s: let through, want a -32001 denial", k)
		}
		return "", fmt.Errorf("%s: %w, want a -32001 denial", k, err)
	}
}

func callParams(k kind, i int) *mcp.CallToolParams {
	switch k {
	case kindEcho:
		return &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": fmt.Sprintf("call %d", i)}}
	case kindAdd:
		return &mcp.CallToolParams{Name: "add", Arguments: map[string]any{"a": i, "b": 2}}
	case kindNote:
		return &mcp.CallToolParams{Name: "write_note", Arguments: map[string]any{"path": fmt.Sprintf("notes/n-%d.txt", i%100), "text": "a short note"}}
	case kindBadArgs:
		return &mcp.CallToolParams{Name: "write_note", Arguments: map[string]any{"path": "../../etc/cron.d/x", "text": "* * * * * root id"}}
	default:
		return &mcp.CallToolParams{Name: "delete_all", Arguments: map[string]any{}}
	}
}
