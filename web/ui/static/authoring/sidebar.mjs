// The editor's sidebar: only what this engine reads from the BPMN (design.md section 3), as
// labelled GOV.UK controls. Every edit goes through bpmn-js commands (modeling.*), so it
// can be undone and marks the draft as changed. Values are applied on "change" (blur or
// Enter), not per keystroke, so each edit is one undo step and focus is never stolen.

const TIMER_KINDS = [['timeDuration', 'Duration (wait this long)'], ['timeDate', 'Date (wait until)'],
  ['timeCycle', 'Cycle (repeat)']]
const KIND_NAMES = {
  'bpmn:UserTask': 'User task', 'bpmn:ManualTask': 'Manual task', 'bpmn:ScriptTask': 'Script task',
  'bpmn:BusinessRuleTask': 'Business rule (DMN)', 'bpmn:ServiceTask': 'Service task', 'bpmn:Task': 'Task',
  'bpmn:SequenceFlow': 'Sequence flow', 'bpmn:ExclusiveGateway': 'Exclusive gateway',
  'bpmn:ParallelGateway': 'Parallel gateway', 'bpmn:InclusiveGateway': 'Inclusive gateway',
  'bpmn:EventBasedGateway': 'Event-based gateway', 'bpmn:StartEvent': 'Start event', 'bpmn:EndEvent': 'End event',
  'bpmn:IntermediateCatchEvent': 'Intermediate event', 'bpmn:IntermediateThrowEvent': 'Intermediate event',
  'bpmn:BoundaryEvent': 'Boundary event', 'bpmn:CallActivity': 'Call activity', 'bpmn:SubProcess': 'Sub-process',
  'bpmn:Lane': 'Lane', 'bpmn:Participant': 'Pool', 'bpmn:TextAnnotation': 'Annotation'
}
const USER_TASKS = new Set(['bpmn:UserTask', 'bpmn:ManualTask'])

function el (tag, attrs = {}, children = []) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue
    if (k === 'text') node.textContent = v
    else if (k === 'class') node.className = v
    else node.setAttribute(k, v === true ? '' : v)
  }
  for (const child of children) if (child) node.append(child)
  return node
}

export function kindName (element) {
  return KIND_NAMES[element.type] || element.type.replace('bpmn:', '')
}

export class Sidebar {
  constructor (modeler, container, config) {
    this.modeler = modeler
    this.container = container
    this.config = config
    this.element = null
    const events = modeler.get('eventBus')
    events.on('selection.changed', ({ newSelection }) => this.show(newSelection.length === 1 ? newSelection[0] : null))
    events.on('elements.changed', ({ elements }) => {
      if (this.element && elements.some(e => e.id === this.element.id) && !container.contains(document.activeElement)) {
        this.show(modeler.get('elementRegistry').get(this.element.id) || null)
      }
    })
    this.show(null)
  }

  get modeling () { return this.modeler.get('modeling') }
  get moddle () { return this.modeler.get('moddle') }

  // -- reading and writing the spiffworkflow extension elements ---------------------------------

  extension (type) {
    const ext = this.element.businessObject.extensionElements
    return ext ? ext.get('values').find(v => v.$type === type) : undefined
  }

  property (name) {
    const props = this.extension('spiffworkflow:Properties')
    const found = props ? props.get('properties').find(p => p.name === name) : undefined
    return found ? (found.value || '') : ''
  }

  ensureExtensions () {
    const element = this.element
    let ext = element.businessObject.extensionElements
    if (!ext) {
      ext = this.moddle.create('bpmn:ExtensionElements', { values: [] })
      ext.$parent = element.businessObject
      this.modeling.updateProperties(element, { extensionElements: ext })
    }
    return ext
  }

  setProperty (name, value) {
    const element = this.element
    const existing = this.extension('spiffworkflow:Properties')
    if (!value && !existing) return
    const ext = this.ensureExtensions()
    let props = existing
    if (!props) {
      props = this.moddle.create('spiffworkflow:Properties', { properties: [] })
      props.$parent = ext
      this.modeling.updateModdleProperties(element, ext, { values: [...ext.get('values'), props] })
    }
    const list = props.get('properties')
    const found = list.find(p => p.name === name)
    if (!value) {
      if (found) this.modeling.updateModdleProperties(element, props, { properties: list.filter(p => p !== found) })
    } else if (found) {
      this.modeling.updateModdleProperties(element, found, { value })
    } else {
      const created = this.moddle.create('spiffworkflow:Property', { name, value })
      created.$parent = props
      this.modeling.updateModdleProperties(element, props, { properties: [...list, created] })
    }
  }

  setInstructions (text) {
    const element = this.element
    const found = this.extension('spiffworkflow:InstructionsForEndUser')
    if (found) {
      if (text) this.modeling.updateModdleProperties(element, found, { text })
      else {
        const ext = element.businessObject.extensionElements
        this.modeling.updateModdleProperties(element, ext, { values: ext.get('values').filter(v => v !== found) })
      }
    } else if (text) {
      const ext = this.ensureExtensions()
      const created = this.moddle.create('spiffworkflow:InstructionsForEndUser', { text })
      created.$parent = ext
      this.modeling.updateModdleProperties(element, ext, { values: [created, ...ext.get('values')] })
    }
  }

  timer () {
    const defs = this.element.businessObject.eventDefinitions || []
    return defs.find(d => d.$type === 'bpmn:TimerEventDefinition')
  }

  // -- rendering --------------------------------------------------------------------------------

  field (id, label, control, hint) {
    const hintNode = hint ? el('div', { class: 'govuk-hint', id: `${id}-hint`, text: hint }) : null
    if (hint) control.setAttribute('aria-describedby', `${id}-hint`)
    control.id = id
    return el('div', { class: 'govuk-form-group' }, [
      el('label', { class: 'govuk-label govuk-label--s', for: id, text: label }), hintNode, control])
  }

  input (value, onChange, extra = {}) {
    const node = el('input', { class: 'govuk-input', type: 'text', spellcheck: 'false', ...extra })
    node.value = value || ''
    node.addEventListener('change', () => onChange(node.value.trim()))
    return node
  }

  select (value, options, onChange) {
    const node = el('select', { class: 'govuk-select app-full-width' },
      options.map(([v, text]) => el('option', { value: v, text })))
    if (value && !options.some(([v]) => v === value)) node.append(el('option', { value, text: `${value} (not known)` }))
    node.value = value || ''
    node.addEventListener('change', () => onChange(node.value))
    return node
  }

  textarea (value, onChange, rows = 5) {
    const node = el('textarea', { class: 'govuk-textarea', rows: String(rows), spellcheck: 'true' })
    node.value = value || ''
    node.addEventListener('change', () => onChange(node.value.trim()))
    return node
  }

  show (element) {
    this.element = element
    const c = this.container
    c.replaceChildren()
    if (!element || element.type === 'label') {
      c.append(el('h2', { class: 'govuk-heading-m', text: 'Properties' }),
        el('p', { class: 'govuk-body', text: 'Select a step, flow or event on the diagram, or choose it from "Step to edit", to change what the engine reads from it.' }))
      return
    }
    const bo = element.businessObject
    c.append(el('h2', { class: 'govuk-heading-m', text: 'Properties' }),
      el('p', { class: 'govuk-caption-m', text: kindName(element) }),
      el('p', { class: 'govuk-body-s' }, [document.createTextNode('Element id (fixed): '), el('code', { text: element.id })]))
    c.append(this.field('prop-name', 'Name', this.input(bo.name, v => this.modeling.updateLabel(element, v || undefined))))
    if (USER_TASKS.has(element.type)) this.showTask()
    if (element.type === 'bpmn:SequenceFlow') {
      const cond = bo.conditionExpression ? bo.conditionExpression.body : ''
      c.append(this.field('prop-condition', 'Condition expression', this.textarea(cond, v => {
        this.modeling.updateProperties(element, {
          conditionExpression: v ? this.moddle.create('bpmn:FormalExpression', { body: v }) : undefined
        })
      }, 3), 'A Python expression over the task data, for example decision == "disclose". Leave empty on the default flow.'))
    }
    if (this.timer()) this.showTimer()
  }

  showTask () {
    const c = this.container
    const roles = [['', 'Use the lane name'], ...this.config.roles.map(r => [r, r])]
    const files = (names) => [['', 'None'], ...names.map(n => [n, n])]
    const prop = (name) => (v) => this.setProperty(name, v)
    c.append(
      this.field('prop-candidate-role', 'Candidate role', this.select(this.property('candidate_role'), roles, prop('candidate_role')),
        'Who may claim and complete this task.'),
      this.field('prop-form', 'Form file', this.select(this.property('formJsonSchemaFilename'), files(this.config.forms), prop('formJsonSchemaFilename')),
        'The JSON Schema the officer fills in. Edit forms on the Forms tab.'),
      this.field('prop-ui-form', 'Form layout file (UI hints)', this.select(this.property('formUiSchemaFilename'), files(this.config.uiForms), prop('formUiSchemaFilename'))),
      this.field('prop-due-period', 'Due period', this.input(this.property('due_period'), prop('due_period')),
        'Calendar time, ISO 8601: P5D is 5 days, PT4H is 4 hours. Leave empty to use working days.'),
      this.field('prop-due-working-days', 'Due working days', this.input(this.property('due_working_days'), prop('due_working_days'), { inputmode: 'numeric', class: 'govuk-input govuk-input--width-3' }),
        'England and Wales working days; due at 17:00 on the last day. Use this or a due period, not both.'),
      this.field('prop-reminder-before', 'Reminder before', this.input(this.property('reminder_before'), prop('reminder_before'), { class: 'govuk-input govuk-input--width-10' }),
        'ISO 8601 duration before the due time, for example P1D.'),
      this.field('prop-escalate-after', 'Escalate after', this.input(this.property('escalate_after'), prop('escalate_after'), { class: 'govuk-input govuk-input--width-10' }),
        'ISO 8601 duration after the due time, for example P2D.'),
      this.field('prop-escalate-to-role', 'Escalate to role', this.select(this.property('escalate_to_role'), [['', 'Nobody'], ...this.config.roles.map(r => [r, r])], prop('escalate_to_role'))))
    const box = el('input', { class: 'govuk-checkboxes__input', id: 'prop-records-decision', type: 'checkbox' })
    box.checked = this.property('records_decision').toLowerCase() === 'true'
    box.addEventListener('change', () => this.setProperty('records_decision', box.checked ? 'true' : ''))
    c.append(el('div', { class: 'govuk-form-group' }, [el('div', { class: 'govuk-checkboxes govuk-checkboxes--small' }, [
      el('div', { class: 'govuk-checkboxes__item' }, [box,
        el('label', { class: 'govuk-label govuk-checkboxes__label', for: 'prop-records-decision', text: 'Completing this task records the decision' })])])]))
    const ins = this.extension('spiffworkflow:InstructionsForEndUser')
    c.append(this.field('prop-instructions', 'Instructions for the officer', this.textarea(ins ? ins.text : '', v => this.setInstructions(v), 8),
      'Markdown. Placeholders such as {{ case_reference }} are filled from the task data.'))
  }

  showTimer () {
    const def = this.timer()
    const current = TIMER_KINDS.find(([k]) => def[k]) || TIMER_KINDS[0]
    const kind = this.select(current[0], TIMER_KINDS, () => apply())
    const expr = this.input(def[current[0]] ? def[current[0]].body : '', () => apply())
    const apply = () => {
      const props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined }
      if (expr.value.trim()) props[kind.value] = this.moddle.create('bpmn:FormalExpression', { body: expr.value.trim() })
      this.modeling.updateModdleProperties(this.element, def, props)
    }
    this.container.append(this.field('prop-timer-kind', 'Timer type', kind),
      this.field('prop-timer', 'Timer expression', expr,
        'A quoted ISO 8601 value, for example "P28D", or an expression over the task data.'))
  }
}
