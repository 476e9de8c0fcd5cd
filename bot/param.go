package bot

import "strings"

// ParamKind is what a command argument holds. Platforms with typed command
// options (Discord) offer each kind as its own option type; on the others
// the kinds only shape the usage line.
type ParamKind int

// Kinds of command arguments.
const (
	ParamText     ParamKind = iota // free text, one value
	ParamUser                      // a person: @mention
	ParamFlag                      // a switch: the word in Flag when on
	ParamIncident                  // INC-n, when not typed in the incident's channel
	ParamSeverity                  // one of the configured severities
	ParamService                   // a service
	ParamSchedule                  // a schedule or a service
)

// Param is one argument of a command, in the order the command line takes
// them. The command's usage line and its Discord options are both made
// from its Params, so they cannot disagree.
type Param struct {
	Name     string // lower case, no spaces: "title", "person"
	Desc     string // one short line (Discord: at most 100 characters)
	Kind     ParamKind
	Required bool
	Key      string // written as key:value (declare's sev:); "" for a positional value
	Flag     string // for ParamFlag: the word written when it is on
	Usage    string // how the usage line shows it, when the default does not read well
}

// IncidentParam is the [INC-n] most incident commands take first.
var IncidentParam = Param{Name: "incident", Desc: "INC-n, when not typed in the incident's channel", Kind: ParamIncident}

// UsageWord is how the usage line shows p: "[INC-n]", "<text>", "[all]",
// "@person", "[sev:<severity>]".
func (p Param) UsageWord() string {
	if p.Usage != "" {
		return p.Usage
	}
	var w string
	switch p.Kind {
	case ParamIncident:
		return "[INC-n]"
	case ParamFlag:
		return "[" + p.Flag + "]"
	case ParamUser:
		w = "@" + p.Name
		if p.Key != "" {
			w = p.Key + ":" + w
		}
		if p.Required {
			return w
		}
		return "[" + w + "]"
	}
	w = "<" + p.Name + ">"
	if p.Key != "" {
		return "[" + p.Key + ":" + w + "]"
	}
	if p.Required {
		return w
	}
	return "[" + p.Name + "]"
}

// usage is the argument part of a usage line.
func usage(params []Param) string {
	words := make([]string, len(params))
	for i, p := range params {
		words[i] = p.UsageWord()
	}
	return strings.Join(words, " ")
}
