// Package commands groups the command trees of the aip binaries: aipcmd
// (the CLI for people), issuercmd (aip-issuer) and enforcercmd
// (aip-enforcer). Each cmd/<binary>/main.go only calls Root and cli.Main.
package commands
