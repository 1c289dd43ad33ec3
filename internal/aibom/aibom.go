// Package aibom builds the pack's AI bill of materials: a CycloneDX 1.6
// ML-BOM (https://cyclonedx.org/docs/1.6/json/) with the model as a
// machine-learning-model component carrying a modelCard, each dataset as a
// data component, and the dependencies between them.
//
// Every value comes from the configuration, the lineage record or the
// metrics document: performance metrics and fairness assessments are
// copied from the evaluation, never typed by hand.
package aibom

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/auditpack/auditpack/internal/lineage"
)

// Model is the configuration's description of the model.
type Model struct {
	Name        string
	Version     string
	Description string
	License     string
	IntendedUse string
	Limitations string
	Owners      []Owner
	// Task is used as modelParameters.task only when metrics.json has no
	// evaluation with a task; otherwise the task comes from the
	// evaluations (see modelTask).
	Task string
}

// Owner is a person or team accountable for the model.
type Owner struct {
	Name    string
	Contact string
}

// Input is everything the BOM is built from.
type Input struct {
	Model   Model
	Lineage *lineage.Lineage
	// Metrics is metrics.json.
	Metrics []byte
	// Tool names the program, for metadata.tools.
	ToolName    string
	ToolVersion string
	// Created is the pack's timestamp.
	Created time.Time
	// PositiveOutcomes maps an evaluation's name to OutcomeFavorable or
	// OutcomeUnfavorable, its fairness.positive_outcome. An evaluation
	// without an entry gets no group at risk.
	PositiveOutcomes map[string]string
}

// Build returns the BOM. Its serial number is derived from the rest of
// the document (see serialNumber), so the same inputs give the same
// document and any change gives a new serial number.
func Build(in Input) (*cdx.BOM, error) {
	if in.Lineage == nil || len(in.Lineage.Artifacts) == 0 {
		return nil, fmt.Errorf("building the AI-BOM: the lineage has no model artifact")
	}
	evals, err := parseMetrics(in.Metrics)
	if err != nil {
		return nil, err
	}

	bom := cdx.NewBOM()
	bom.SpecVersion = cdx.SpecVersion1_6
	bom.Version = 1
	bom.Metadata = &cdx.Metadata{
		Timestamp: in.Created.UTC().Format(time.RFC3339),
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: in.ToolName, Version: in.ToolVersion,
		}}},
	}

	model := modelComponent(in, evals)
	var components []cdx.Component
	var datasetRefs []string
	for _, d := range in.Lineage.Datasets {
		c := datasetComponent(d)
		components = append(components, c)
		datasetRefs = append(datasetRefs, c.BOMRef)
	}
	bom.Components = &[]cdx.Component{}
	*bom.Components = append([]cdx.Component{model}, components...)

	deps := []cdx.Dependency{{Ref: model.BOMRef, Dependencies: &datasetRefs}}
	for _, ref := range datasetRefs {
		deps = append(deps, cdx.Dependency{Ref: ref})
	}
	bom.Dependencies = &deps

	serial, err := serialNumber(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = serial
	return bom, nil
}

// Encode writes bom as CycloneDX 1.6 JSON, indented, with a trailing
// newline.
func Encode(bom *cdx.BOM) ([]byte, error) {
	var b bytes.Buffer
	enc := cdx.NewBOMEncoder(&b, cdx.BOMFileFormatJSON)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("encoding the AI-BOM: %w", err)
	}
	return b.Bytes(), nil
}

func modelComponent(in Input, evals []evaluation) cdx.Component {
	m := in.Model
	c := cdx.Component{
		BOMRef:      "model:" + m.Name,
		Type:        cdx.ComponentTypeMachineLearningModel,
		Name:        m.Name,
		Version:     m.Version,
		Description: m.Description,
	}
	if m.License != "" {
		c.Licenses = &cdx.Licenses{{Expression: m.License}}
	}
	var hashes []cdx.Hash
	var props []cdx.Property
	for _, a := range in.Lineage.Artifacts {
		hashes = append(hashes, cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: a.SHA256})
		props = append(props, cdx.Property{Name: "auditpack:artifact", Value: fmt.Sprintf("%s sha256:%s size:%d", a.Path, a.SHA256, a.Size)})
	}
	// CycloneDX holds one hash per algorithm for a component, so a model of
	// several artifacts lists each in a property and only the first hash.
	c.Hashes = &[]cdx.Hash{hashes[0]}
	if len(hashes) == 1 {
		props = nil
	}
	if len(props) > 0 {
		c.Properties = &props
	}
	if len(m.Owners) > 0 {
		var contacts []cdx.OrganizationalContact
		for _, o := range m.Owners {
			contacts = append(contacts, cdx.OrganizationalContact{Name: o.Name, Email: emailOf(o.Contact)})
		}
		c.Authors = &contacts
	}

	card := &cdx.MLModelCard{BOMRef: "model-card:" + m.Name}
	params := &cdx.MLModelParameters{Task: modelTask(evals, m.Task)}
	var datasets []cdx.MLDatasetChoice
	for _, d := range in.Lineage.Datasets {
		datasets = append(datasets, cdx.MLDatasetChoice{Ref: datasetRef(d)})
	}
	if len(datasets) > 0 {
		params.Datasets = &datasets
	}
	card.ModelParameters = params

	if metrics := performanceMetrics(evals); len(metrics) > 0 {
		card.QuantitativeAnalysis = &cdx.MLQuantitativeAnalysis{PerformanceMetrics: &metrics}
	}
	considerations := &cdx.MLModelCardConsiderations{}
	if m.IntendedUse != "" {
		considerations.UseCases = &[]string{m.IntendedUse}
	}
	if m.Limitations != "" {
		considerations.TechnicalLimitations = &[]string{m.Limitations}
	}
	if fairness := fairnessAssessments(evals, in.PositiveOutcomes); len(fairness) > 0 {
		considerations.FairnessAssessments = &fairness
	}
	if *considerations != (cdx.MLModelCardConsiderations{}) {
		card.Considerations = considerations
	}
	c.ModelCard = card
	return c
}

func datasetRef(d lineage.Dataset) string { return "dataset:" + d.Name }

func datasetComponent(d lineage.Dataset) cdx.Component {
	c := cdx.Component{
		BOMRef: datasetRef(d),
		Type:   cdx.ComponentTypeData,
		Name:   d.Name,
		Hashes: &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: d.SHA256}},
	}
	if d.License != "" {
		c.Licenses = &cdx.Licenses{{Expression: d.License}}
	}
	data := cdx.ComponentData{Type: cdx.ComponentDataTypeDataset, Name: d.Name}
	props := []cdx.Property{
		{Name: "auditpack:role", Value: d.Role},
		{Name: "auditpack:path", Value: d.Path},
		{Name: "auditpack:type", Value: d.Type},
		{Name: "auditpack:size", Value: strconv.FormatInt(d.Size, 10)},
	}
	if d.Type == lineage.TypeDirectory {
		props = append(props, cdx.Property{Name: "auditpack:files", Value: strconv.Itoa(len(d.Files))})
	}
	if d.Source != "" {
		props = append(props, cdx.Property{Name: "auditpack:source", Value: d.Source})
		if isURL(d.Source) {
			data.Contents = &cdx.ComponentDataContents{URL: d.Source}
			c.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeDistribution, URL: d.Source}}
		}
	}
	if p := d.Provenance; p != nil {
		data.Description = p.Description
		if p.Terms != "" {
			props = append(props, cdx.Property{Name: "auditpack:terms", Value: p.Terms})
		}
		if p.Collection != nil {
			props = append(props, cdx.Property{Name: "auditpack:collection", Value: p.Collection.Start + "/" + p.Collection.End})
		}
		for _, s := range p.Composition {
			props = append(props, cdx.Property{Name: "auditpack:composition:" + s.Origin, Value: strconv.FormatFloat(s.Share, 'f', -1, 64)})
		}
		for _, code := range p.Preprocessing {
			value := code.Path + " sha256:" + code.SHA256
			if code.Commit != "" {
				value += " commit:" + code.Commit
			}
			props = append(props, cdx.Property{Name: "auditpack:preprocessing", Value: value})
		}
	}
	for _, check := range d.DVC {
		props = append(props, cdx.Property{Name: "auditpack:dvc", Value: fmt.Sprintf("%s %s %s %s", check.File, check.Kind, check.Hash, check.Status)})
	}
	c.Data = &[]cdx.ComponentData{data}
	c.Properties = &props
	return c
}
