package schemaregistry

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
)

// HandlerOptions configures Handler.
type HandlerOptions struct {
	// Username and Password, when set, are required as basic auth on every
	// request (to test client credentials).
	Username, Password string
}

// Handler serves m over the REST subsets the clients in this package use:
//
//	Confluent, at / and at /apis/ccompat/v7:
//	  GET  /schemas/ids/{id}, /schemas/ids/{id}/schema
//	  GET  /subjects, /subjects/{subject}/versions, /subjects/{subject}/versions/{version|latest|-1}
//	  POST /subjects/{subject}/versions (register), /subjects/{subject} (look up)
//	Apicurio v3, at /apis/registry/v3:
//	  GET  /ids/contentIds/{id}, /ids/globalIds/{id}
//	  GET  /groups/{group}/artifacts/{artifact}/versions/{version|branch=latest}[/content]
//	  POST /groups/{group}/artifacts (create or find version), /search/versions (by content)
//
// Apicurio artifacts in group "default" are the Confluent subjects of the same
// name; other groups are kept apart as "<group>/<artifact>".
func Handler(m *Memory, opts HandlerOptions) http.Handler {
	h := &handler{m: m}
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/apis/ccompat/v7"} {
		mux.HandleFunc("GET "+prefix+"/schemas/ids/{id}", h.confluentSchemaByID(false))
		mux.HandleFunc("GET "+prefix+"/schemas/ids/{id}/schema", h.confluentSchemaByID(true))
		mux.HandleFunc("GET "+prefix+"/subjects", h.confluentSubjects)
		mux.HandleFunc("GET "+prefix+"/subjects/{subject}/versions", h.confluentVersions)
		mux.HandleFunc("GET "+prefix+"/subjects/{subject}/versions/{version}", h.confluentVersion)
		mux.HandleFunc("POST "+prefix+"/subjects/{subject}/versions", h.confluentRegister)
		mux.HandleFunc("POST "+prefix+"/subjects/{subject}", h.confluentLookup)
	}
	const ap = "/apis/registry/v3"
	mux.HandleFunc("GET "+ap+"/ids/contentIds/{id}", h.apicurioByContentID)
	mux.HandleFunc("GET "+ap+"/ids/globalIds/{id}", h.apicurioByGlobalID)
	mux.HandleFunc("GET "+ap+"/groups/{group}/artifacts/{artifact}/versions/{version}", h.apicurioVersion(false))
	mux.HandleFunc("GET "+ap+"/groups/{group}/artifacts/{artifact}/versions/{version}/content", h.apicurioVersion(true))
	mux.HandleFunc("POST "+ap+"/groups/{group}/artifacts", h.apicurioCreate)
	mux.HandleFunc("POST "+ap+"/search/versions", h.apicurioSearch)
	if opts.Username == "" && opts.Password == "" {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != opts.Username || p != opts.Password {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error_code": 401, "message": "Unauthorized"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type handler struct{ m *Memory }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func confluentError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"error_code": code, "message": msg})
}

func (h *handler) confluentSchemaByID(raw bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.Atoi(r.PathValue("id"))
		if err != nil {
			confluentError(w, http.StatusNotFound, 40403, "Schema not found")
			return
		}
		text, err := h.m.SchemaByID(r.Context(), id)
		if err != nil {
			confluentError(w, http.StatusNotFound, 40403, "Schema "+strconv.Itoa(id)+" not found")
			return
		}
		if raw {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, text)
			return
		}
		body := map[string]any{"schema": text}
		if refs := h.m.SchemaReferences(id); len(refs) > 0 {
			body["references"] = refs
		}
		writeJSON(w, http.StatusOK, body)
	}
}

func (h *handler) confluentSubjects(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, h.m.Subjects())
}

func (h *handler) confluentVersions(w http.ResponseWriter, r *http.Request) {
	versions := h.m.Versions(r.PathValue("subject"))
	if len(versions) == 0 {
		confluentError(w, http.StatusNotFound, 40401, "Subject '"+r.PathValue("subject")+"' not found.")
		return
	}
	writeJSON(w, http.StatusOK, versions)
}

func (h *handler) confluentVersion(w http.ResponseWriter, r *http.Request) {
	subject, vs := r.PathValue("subject"), r.PathValue("version")
	if len(h.m.Versions(subject)) == 0 {
		confluentError(w, http.StatusNotFound, 40401, "Subject '"+subject+"' not found.")
		return
	}
	version := -1
	if vs != "latest" {
		v, err := strconv.Atoi(vs)
		if err != nil {
			confluentError(w, http.StatusUnprocessableEntity, 42202, "Invalid version "+vs)
			return
		}
		version = v
	}
	s, err := h.m.Version(r.Context(), subject, version)
	if err != nil {
		confluentError(w, http.StatusNotFound, 40402, "Version "+vs+" not found.")
		return
	}
	body := map[string]any{"subject": s.Subject, "version": s.Version, "id": s.ID, "schema": s.Schema}
	if refs := h.m.SchemaReferences(s.ID); len(refs) > 0 {
		body["references"] = refs
	}
	writeJSON(w, http.StatusOK, body)
}

type confluentSchemaBody struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType"`
	References []Reference `json:"references"`
}

func readSchemaBody(w http.ResponseWriter, r *http.Request) (confluentSchemaBody, bool) {
	var body confluentSchemaBody
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&body); err != nil || body.Schema == "" {
		confluentError(w, http.StatusUnprocessableEntity, 42201, "Invalid schema")
		return body, false
	}
	if body.SchemaType != "" && body.SchemaType != "AVRO" {
		confluentError(w, http.StatusUnprocessableEntity, 42201, "Only AVRO schemas are supported")
		return body, false
	}
	return body, true
}

func (h *handler) confluentRegister(w http.ResponseWriter, r *http.Request) {
	body, ok := readSchemaBody(w, r)
	if !ok {
		return
	}
	id, err := h.m.RegisterWithReferences(r.Context(), r.PathValue("subject"), body.Schema, body.References)
	if err != nil {
		confluentError(w, http.StatusUnprocessableEntity, 42201, "Invalid schema: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id})
}

func (h *handler) confluentLookup(w http.ResponseWriter, r *http.Request) {
	subject := r.PathValue("subject")
	body, ok := readSchemaBody(w, r)
	schema := body.Schema
	if !ok {
		return
	}
	if len(h.m.Versions(subject)) == 0 {
		confluentError(w, http.StatusNotFound, 40401, "Subject '"+subject+"' not found.")
		return
	}
	id, err := h.m.Lookup(r.Context(), subject, schema)
	if err != nil {
		confluentError(w, http.StatusNotFound, 40403, "Schema not found")
		return
	}
	for _, v := range h.m.Versions(subject) {
		if s, _ := h.m.Version(r.Context(), subject, v); s.ID == id {
			writeJSON(w, http.StatusOK, map[string]any{"subject": subject, "version": v, "id": id, "schema": s.Schema})
			return
		}
	}
	confluentError(w, http.StatusNotFound, 40403, "Schema not found")
}

// --- Apicurio v3 ---

func apicurioError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"status": status, "title": msg, "detail": msg})
}

func apicurioSubject(group, artifact string) string {
	if group == "" || group == "default" {
		return artifact
	}
	return group + "/" + artifact
}

func (h *handler) apicurioMeta(group, artifact string, s SubjectSchema) (map[string]any, error) {
	gid, err := h.m.GlobalID(s.Subject, s.Version)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"groupId": group, "artifactId": artifact, "version": strconv.Itoa(s.Version),
		"globalId": gid, "contentId": s.ID, "artifactType": "AVRO",
	}, nil
}

func (h *handler) apicurioByContentID(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	text, err2 := h.m.SchemaByID(r.Context(), id)
	if err != nil || err2 != nil {
		apicurioError(w, http.StatusNotFound, "No content with id '"+r.PathValue("id")+"' was found.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, text)
}

func (h *handler) apicurioByGlobalID(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	s, err2 := h.m.ByGlobalID(r.Context(), id)
	if err != nil || err2 != nil {
		apicurioError(w, http.StatusNotFound, "No artifact with ID '"+r.PathValue("id")+"' was found.")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, s.Schema)
}

func (h *handler) apicurioVersion(content bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		group, artifact, vs := r.PathValue("group"), r.PathValue("artifact"), r.PathValue("version")
		subject := apicurioSubject(group, artifact)
		version := -1
		if vs != "branch=latest" {
			v, err := strconv.Atoi(vs)
			if err != nil {
				apicurioError(w, http.StatusBadRequest, "Invalid version expression '"+vs+"'")
				return
			}
			version = v
		}
		s, err := h.m.Version(r.Context(), subject, version)
		if err != nil {
			apicurioError(w, http.StatusNotFound, "No version '"+vs+"' found for artifact with ID '"+artifact+"' in group '"+group+"'.")
			return
		}
		if content {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, s.Schema)
			return
		}
		meta, err := h.apicurioMeta(group, artifact, s)
		if err != nil {
			apicurioError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, meta)
	}
}

func (h *handler) apicurioCreate(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ArtifactID   string `json:"artifactId"`
		ArtifactType string `json:"artifactType"`
		FirstVersion struct {
			Content struct {
				Content string `json:"content"`
			} `json:"content"`
		} `json:"firstVersion"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&body); err != nil || body.ArtifactID == "" || body.FirstVersion.Content.Content == "" {
		apicurioError(w, http.StatusBadRequest, "Invalid artifact")
		return
	}
	if body.ArtifactType != "" && body.ArtifactType != "AVRO" {
		apicurioError(w, http.StatusBadRequest, "Only AVRO artifacts are supported")
		return
	}
	group := r.PathValue("group")
	subject := apicurioSubject(group, body.ArtifactID)
	ifExists := r.URL.Query().Get("ifExists")
	if len(h.m.Versions(subject)) > 0 && (ifExists == "" || ifExists == "FAIL") {
		apicurioError(w, http.StatusConflict, "An artifact with ID '"+body.ArtifactID+"' in group '"+group+"' already exists.")
		return
	}
	if ifExists == "FIND_OR_CREATE_VERSION" || ifExists == "CREATE_VERSION" || ifExists == "" || ifExists == "FAIL" {
		s, err := h.m.RegisterVersion(subject, body.FirstVersion.Content.Content)
		if err != nil {
			apicurioError(w, http.StatusInternalServerError, err.Error())
			return
		}
		meta, err := h.apicurioMeta(group, body.ArtifactID, s)
		if err != nil {
			apicurioError(w, http.StatusInternalServerError, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"artifact": map[string]any{"groupId": group, "artifactId": body.ArtifactID, "artifactType": "AVRO"},
			"version":  meta,
		})
		return
	}
	apicurioError(w, http.StatusBadRequest, "Unsupported ifExists '"+ifExists+"'")
}

func (h *handler) apicurioSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	group, artifact := q.Get("groupId"), q.Get("artifactId")
	if group == "" {
		group = "default"
	}
	content, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	if err != nil || artifact == "" {
		apicurioError(w, http.StatusBadRequest, "groupId, artifactId and content are required")
		return
	}
	subject := apicurioSubject(group, artifact)
	versions := []map[string]any{}
	if id, err := h.m.Lookup(r.Context(), subject, string(content)); err == nil {
		for _, v := range h.m.Versions(subject) {
			s, err := h.m.Version(r.Context(), subject, v)
			if err != nil || s.ID != id {
				continue
			}
			if meta, err := h.apicurioMeta(group, artifact, s); err == nil {
				versions = append(versions, meta)
			}
		}
	} else if !errors.Is(err, ErrNotFound) {
		apicurioError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"versions": versions, "count": len(versions)})
}
