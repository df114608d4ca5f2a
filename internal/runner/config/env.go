package config

import (
	"fmt"
	"strings"
)

// expandEnv replaces ${NAME}, ${NAME:default} and ${NAME:-default} in s by
// the variable's value from lookup; $${ is a literal ${. The default is used
// when the variable is unset or empty. It fails on an unset variable
// without default, an empty or malformed name, and an unterminated ${.
//
// ${env:NAME} is Kafka's EnvVarConfigProvider form (config.providers: env),
// which upstream's Helm chart writes for group.instance.id: it is the
// variable NAME, never a variable called env with the default NAME. Unlike
// Kafka, which leaves an unresolved reference in the value as written, an
// unset NAME is an error.
func expandEnv(s string, lookup func(string) (string, bool)) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], "$${") {
			b.WriteString("${")
			i += 3
			continue
		}
		if !strings.HasPrefix(s[i:], "${") {
			b.WriteByte(s[i])
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			return "", fmt.Errorf("unterminated ${ in %q (write $${ for a literal ${)", s)
		}
		expr := s[i+2 : i+2+end]
		name, def, hasDef := expr, "", false
		if provided, ok := strings.CutPrefix(expr, envProvider+":"); ok {
			// Kafka's ${provider:[path:]key}; the env provider has no path.
			name = strings.TrimPrefix(provided, ":")
			if !validEnvName(name) {
				return "", fmt.Errorf("invalid environment variable name %q in ${%s}", name, expr)
			}
			val, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("environment variable %s is not set (${%s} reads it through Kafka's env config provider)", name, expr)
			}
			b.WriteString(val)
			i += 2 + end + 1
			continue
		}
		if c := strings.IndexByte(expr, ':'); c >= 0 {
			name, def, hasDef = expr[:c], expr[c+1:], true
			// ${NAME:-default} is the shell spelling of ${NAME:default}.
			def = strings.TrimPrefix(def, "-")
		}
		if !validEnvName(name) {
			return "", fmt.Errorf("invalid environment variable name %q in ${%s}", name, expr)
		}
		val, ok := lookup(name)
		switch {
		case ok && val != "":
			b.WriteString(val)
		case hasDef:
			b.WriteString(def)
		case ok:
			// Set but empty, no default: the empty value.
		default:
			return "", fmt.Errorf("environment variable %s is not set (write ${%s:default} to give a default)", name, name)
		}
		i += 2 + end + 1
	}
	return b.String(), nil
}

// envProvider is the name Kafka's configurations give EnvVarConfigProvider
// (config.providers: env).
const envProvider = "env"

func validEnvName(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range name {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		case c == '.' && i > 0:
			// Dotted names (app.id) are valid in the environment of a
			// process even if shells cannot set them.
		default:
			return false
		}
	}
	return true
}
