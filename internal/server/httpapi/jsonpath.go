package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// jsonProblem is a field-level problem found by checkJSON.
type jsonProblem struct {
	field, description string
}

// checkJSON walks a syntactically valid JSON document along the Go type t
// (the type decoded into) and returns the first key that appears twice in
// one object (encoding/json would silently keep the last) or the first
// unknown field of an object decoded into a struct, named by its full
// field path: backend.endpoint.bogus, labels["team"], channels[2]. Values
// decoded by their own UnmarshalJSON are only checked for duplicate keys.
func checkJSON(body []byte, t reflect.Type) *jsonProblem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p, err := walkJSON(dec, t, "")
	if err != nil {
		return nil // not valid JSON: the decoder reports it
	}
	return p
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func walkJSON(dec *json.Decoder, t reflect.Type, path string) (*jsonProblem, error) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t.Implements(unmarshalerType) || reflect.PointerTo(t).Implements(unmarshalerType)) {
		t = nil
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if p, err := walkJSON(dec, elem, fmt.Sprintf("%s[%d]", path, i)); p != nil || err != nil {
				return p, err
			}
		}
		_, err = dec.Token()
		return nil, err
	case json.Delim('{'):
		var fields *jsonFields // for structs
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = structFields(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			key, _ := kt.(string)
			var child reflect.Type
			var childPath, id string
			if fields != nil {
				name, ok := fields.names[key]
				if !ok {
					name, ok = fields.names[strings.ToLower(key)]
				}
				if !ok {
					return &jsonProblem{joinField(path, key), "unknown field; check the spelling against the API reference"}, nil
				}
				f, _ := t.FieldByName(fields.goNames[name])
				child, childPath, id = f.Type, joinField(path, name), name
			} else {
				child, childPath, id = elem, fmt.Sprintf("%s[%q]", path, key), key
			}
			if seen[id] {
				return &jsonProblem{childPath, "appears more than once in the same object; send each key once"}, nil
			}
			seen[id] = true
			if p, err := walkJSON(dec, child, childPath); p != nil || err != nil {
				return p, err
			}
		}
		_, err = dec.Token()
		return nil, err
	}
	return nil, nil
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// jsonFields describes the JSON fields of a struct type.
type jsonFields struct {
	// names maps each JSON name, as written and lowercased (encoding/json
	// matches keys case-insensitively), to the canonical JSON name.
	names map[string]string
	// goNames maps a canonical JSON name to its Go field name (FieldByName
	// also finds the promoted fields of embedded structs).
	goNames map[string]string
}

var structFieldCache sync.Map // reflect.Type → *jsonFields

func structFields(t reflect.Type) *jsonFields {
	if m, ok := structFieldCache.Load(t); ok {
		return m.(*jsonFields)
	}
	m := &jsonFields{names: map[string]string{}, goNames: map[string]string{}}
	var collect func(t reflect.Type)
	collect = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					collect(ft)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			if name == "" {
				name = f.Name
			}
			if _, dup := m.goNames[name]; dup {
				continue
			}
			m.goNames[name] = f.Name
			m.names[name] = name
			if _, ok := m.names[strings.ToLower(name)]; !ok {
				m.names[strings.ToLower(name)] = name
			}
		}
	}
	collect(t)
	structFieldCache.Store(t, m)
	return m
}
