// Command demo is the scripted part of `make demo` (scripts/demo.sh):
//
//	demo freeport                 print a free loopback TCP port
//	demo agent -issuer URL -mcp URL -key FILE -user U -root DIR ...
//	                              the agent: the MCP Go SDK over identity/agent,
//	                              through aip-enforcer serve to the real
//	                              server-filesystem; narrates each scenario
//	                              and prints the summary table
//	demo spire-agent -issuer URL -mcp URL -replica-b ADDR ...
//	                              the agent of `make demo-spire`
//	                              (scripts/demo-spire.sh): the same scenarios
//	                              with its X509-SVID from SPIRE and a Dex
//	                              user, through two enforcer replicas
//	demo sso-bind -issuer URL -agent ID -user U -scope T,T ...
//	                              a demo user binds an agent at the issuer's
//	                              /bind pages (plain HTML: a client with a
//	                              cookie jar plays the browser)
//	demo dex-config|dex-token|probe  helpers of scripts/demo-spire.sh
//
// It never prints a token or a key: AATs are named by jti, keys by
// thumbprint.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: demo freeport | agent | spire-agent | sso-bind | dex-config | dex-token | probe [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "freeport":
		err = freePort()
	case "agent":
		err = runAgent(os.Args[2:])
	case "spire-agent":
		err = runSPIREAgent(os.Args[2:])
	case "sso-bind":
		err = ssoBind(os.Args[2:])
	case "dex-config":
		err = dexConfig(os.Args[2:])
	case "dex-token":
		err = dexToken(os.Args[2:])
	case "probe":
		err = probe(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func freePort() error {
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer func() { _ = ln.Close() }()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}
