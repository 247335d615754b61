// The visual diff: two navigated viewers (before | after) with added, removed, changed and
// moved elements coloured. bpmn-js-differ finds diagram-level changes; the server's diff
// (services.workflows / drafts, passed in data-config) adds what only the engine reads, such
// as a changed due_period, which bpmn-js-differ does not see inside extension elements.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer'
import { diff } from 'bpmn-js-differ'
import 'bpmn-js/dist/assets/diagram-js.css'
import 'bpmn-js/dist/assets/bpmn-js.css'
import spiffworkflow from './spiffworkflow-moddle.json'

const root = document.getElementById('visual-diff')
const config = JSON.parse(root.dataset.config)

async function load (viewer, url) {
  const response = await fetch(url, { credentials: 'same-origin' })
  if (!response.ok) throw new Error(`${url}: ${response.status}`)
  await viewer.importXML(await response.text())
  viewer.get('canvas').zoom('fit-viewport', 'auto')
}

function addMarkers (viewer, ids, marker) {
  const registry = viewer.get('elementRegistry')
  const canvas = viewer.get('canvas')
  for (const id of ids) if (registry.get(id)) canvas.addMarker(id, marker)
}

// Keep both diagrams at the same place and zoom, so a change can be compared side by side.
function link (a, b) {
  let busy = false
  const follow = (from, to) => from.get('eventBus').on('canvas.viewbox.changed', ({ viewbox }) => {
    if (busy) return
    busy = true
    to.get('canvas').viewbox(viewbox)
    busy = false
  })
  follow(a, b)
  follow(b, a)
}

function listAttributeChanges (changed) {
  const list = document.getElementById('diagram-changes')
  list.replaceChildren()
  for (const [id, change] of Object.entries(changed)) {
    for (const [attr, values] of Object.entries(change.attrs || {})) {
      // bpmn-js-differ 3.2.0 reports oldValue and newValue swapped (web-notes.md): swap back.
      const before = values.newValue
      const after = values.oldValue
      const show = (v) => (v === undefined || v === null ? '(none)' : (typeof v === 'object' ? (v.id || v.$type || JSON.stringify(v)) : String(v)))
      const item = document.createElement('li')
      item.textContent = `${id}: ${attr} changed from "${show(before)}" to "${show(after)}"`
      list.append(item)
    }
  }
  if (!list.children.length) {
    const item = document.createElement('li')
    item.textContent = 'No attribute of the diagram itself changed (extension properties are in the list above).'
    list.append(item)
  }
}

async function start () {
  const extensions = { moddleExtensions: { spiffworkflow } }
  const before = new NavigatedViewer({ container: document.getElementById('diagram-before'), ...extensions })
  const after = new NavigatedViewer({ container: document.getElementById('diagram-after'), ...extensions })
  await load(before, config.oldUrl)
  await load(after, config.newUrl)
  const found = diff(before.getDefinitions(), after.getDefinitions())
  const added = new Set([...Object.keys(found._added), ...config.marks.added])
  const removed = new Set([...Object.keys(found._removed), ...config.marks.removed])
  const changed = new Set([...Object.keys(found._changed), ...config.marks.changed])
  const moved = new Set([...Object.keys(found._layoutChanged), ...config.layout].filter(id => !changed.has(id) && !added.has(id)))
  addMarkers(after, added, 'diff-added')
  addMarkers(before, removed, 'diff-removed')
  addMarkers(before, changed, 'diff-changed')
  addMarkers(after, changed, 'diff-changed')
  addMarkers(before, moved, 'diff-layout')
  addMarkers(after, moved, 'diff-layout')
  listAttributeChanges(found._changed)
  link(before, after)
  root.classList.add('app-visual-diff--ready')
}

start().catch(error => {
  const note = document.getElementById('visual-diff-status')
  note.textContent = `The diagrams could not be compared: ${error.message}. The list above is complete.`
})
