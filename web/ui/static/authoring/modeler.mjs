// The draft editor: bpmn-js Modeler with the spiffworkflow moddle extension (so the engine's
// properties survive import/export), the sidebar, "Save draft" and "Validate". Bundled by
// esbuild (scripts/build-assets) because bpmn-js/lib uses bare imports. No inline script:
// the page passes its settings in data-config and the CSRF token in a <meta> tag.
import Modeler from 'bpmn-js/lib/Modeler'
import 'bpmn-js/dist/assets/diagram-js.css'
import 'bpmn-js/dist/assets/bpmn-js.css'
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn.css'
import spiffworkflow from './spiffworkflow-moddle.json'
import { Sidebar, kindName } from './sidebar.mjs'

const root = document.getElementById('editor')
const config = JSON.parse(root.dataset.config)
const csrf = document.querySelector('meta[name="csrf-token"]').content
const canvasNode = document.getElementById('canvas')
const status = document.getElementById('editor-status')
const chooser = document.getElementById('element-chooser')
const results = document.getElementById('validation')
let dirty = false
let problemIds = []

const modeler = new Modeler({ container: canvasNode, moddleExtensions: { spiffworkflow } })
const sidebar = new Sidebar(modeler, document.getElementById('properties'), config)

function say (text, kind = 'info') {
  status.textContent = text
  status.dataset.kind = kind
}

async function post (url, body) {
  const response = await fetch(url, {
    method: 'POST', credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf, Accept: 'application/json' },
    body: JSON.stringify(body || {})
  })
  const data = await response.json().catch(() => ({ message: `The server answered ${response.status}` }))
  if (!response.ok) {
    const detail = Object.values(data.errors || {}).flat().join('; ')
    throw new Error((data.message || `Error ${response.status}`) + (detail ? `: ${detail}` : ''))
  }
  return data
}

function fillChooser () {
  if (chooser.contains(document.activeElement)) return
  const current = chooser.value
  const elements = modeler.get('elementRegistry').filter(e => e.type !== 'label' && e.parent && e.businessObject &&
    !['bpmn:Process', 'bpmn:Collaboration'].includes(e.type))
  elements.sort((a, b) => kindName(a).localeCompare(kindName(b)) || (a.businessObject.name || a.id).localeCompare(b.businessObject.name || b.id))
  chooser.replaceChildren(new Option('Choose a step, flow or event', ''),
    ...elements.map(e => new Option(`${kindName(e)}: ${e.businessObject.name || e.id} (${e.id})`, e.id)))
  chooser.value = elements.some(e => e.id === current) ? current : ''
}

function select (id) {
  const element = modeler.get('elementRegistry').get(id)
  if (!element) return
  modeler.get('selection').select(element)
  modeler.get('canvas').scrollToElement(element)
}

async function save () {
  document.activeElement?.blur?.() // apply a sidebar field that is still being typed in
  say('Saving…')
  const { xml } = await modeler.saveXML({ format: true })
  const saved = await post(config.saveUrl, { bpmn: xml })
  dirty = false
  say(`Saved at ${new Date(saved.updated_at).toLocaleTimeString('en-GB')}.`, 'success')
}

function mark (ids) {
  const canvas = modeler.get('canvas')
  const registry = modeler.get('elementRegistry')
  for (const id of problemIds) if (registry.get(id)) canvas.removeMarker(id, 'app-problem')
  problemIds = ids.filter(id => registry.get(id))
  for (const id of problemIds) canvas.addMarker(id, 'app-problem')
}

function showReport (report) {
  results.replaceChildren()
  const heading = document.createElement('h2')
  heading.className = 'govuk-heading-m'
  heading.id = 'validation-heading'
  heading.tabIndex = -1
  heading.textContent = report.ok ? 'Validation passed: this draft can be deployed'
    : `Validation failed: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}` +
      `${report.paths.some(p => !p.ok) ? ' and failing path tests' : ''}`
  results.append(heading)
  if (report.problems.length) {
    const list = document.createElement('ul')
    list.className = 'govuk-list app-problems'
    for (const p of report.problems) {
      const item = document.createElement('li')
      const code = document.createElement('code')
      code.textContent = p.text
      item.append(code)
      if (p.element_id && modeler.get('elementRegistry').get(p.element_id)) {
        const show = document.createElement('button')
        show.type = 'button'
        show.className = 'app-link-button govuk-!-margin-left-2'
        show.textContent = `Show ${p.element_id} on the diagram`
        show.addEventListener('click', () => select(p.element_id))
        item.append(' ', show)
      }
      list.append(item)
    }
    results.append(list)
  } else {
    const none = document.createElement('p')
    none.className = 'govuk-body'
    none.textContent = 'No problems found by the validator and lint rules.'
    results.append(none)
  }
  const caption = report.paths.length ? 'Path tests (workflows/tests): each realistic route through the process'
    : 'Path tests: none run (there are problems to fix first, or this workflow has no path file).'
  const table = document.createElement('table')
  table.className = 'govuk-table'
  table.innerHTML = '<caption class="govuk-table__caption govuk-table__caption--s"></caption><thead class="govuk-table__head"><tr class="govuk-table__row"><th scope="col" class="govuk-table__header">Path</th><th scope="col" class="govuk-table__header">Result</th></tr></thead><tbody class="govuk-table__body"></tbody>'
  table.querySelector('caption').textContent = caption
  for (const p of report.paths) {
    const row = table.tBodies[0].insertRow()
    row.className = 'govuk-table__row'
    const name = row.insertCell()
    name.className = 'govuk-table__cell'
    name.textContent = p.name
    const result = row.insertCell()
    result.className = 'govuk-table__cell'
    const tag = document.createElement('strong')
    tag.className = `govuk-tag ${p.ok ? 'govuk-tag--green' : 'govuk-tag--red'}`
    tag.textContent = p.ok ? 'Passed' : 'Failed'
    result.append(tag, p.ok || !p.message ? '' : ` ${p.message}`)
  }
  results.append(table)
  results.hidden = false
  mark(report.problems.map(p => p.element_id).filter(Boolean))
  heading.focus()
}

async function validate () {
  if (dirty) await save()
  say('Validating (lint rules, then every path test)…')
  const report = await post(config.validateUrl)
  showReport(report)
  say(report.ok ? 'Validation passed.' : 'Validation found problems: see the list below the diagram.', report.ok ? 'success' : 'error')
}

function guard (action) {
  return () => action().catch(error => say(error.message, 'error'))
}

async function start () {
  const response = await fetch(config.diagramUrl, { credentials: 'same-origin' })
  if (!response.ok) throw new Error(`The diagram could not be loaded (${response.status})`)
  const { warnings } = await modeler.importXML(await response.text())
  modeler.get('canvas').zoom('fit-viewport', 'auto')
  fillChooser()
  const events = modeler.get('eventBus')
  events.on('commandStack.changed', () => { dirty = true; say('Unsaved changes.') })
  events.on('elements.changed', () => setTimeout(fillChooser, 0))
  events.on('selection.changed', ({ newSelection }) => {
    if (!chooser.contains(document.activeElement)) chooser.value = newSelection.length === 1 ? newSelection[0].id : ''
  })
  chooser.addEventListener('change', () => select(chooser.value))
  document.getElementById('save-draft').addEventListener('click', guard(save))
  document.getElementById('validate-draft').addEventListener('click', guard(validate))
  window.addEventListener('beforeunload', (event) => { if (dirty) event.preventDefault() })
  root.classList.add('app-editor--ready')
  say(warnings.length ? `Loaded with ${warnings.length} warning(s): some content was not understood by the editor.` : 'Loaded.')
}

start().catch(error => say(error.message, 'error'))
